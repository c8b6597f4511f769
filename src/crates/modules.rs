//! The module tree of a crate, shared where it can be: a file's inline module tree is
//! built once ([`FileTree`]) and shared by every crate that includes the file; a crate
//! holds, per file it includes, where it includes it ([`Modules`]), so many targets sharing
//! a module file cost a few words per file each.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::ids::FileId;
use crate::summary::FileSummary;

/// A module of a crate, as [`Modules::get`] gives it.
#[derive(Debug, Clone, Copy)]
pub struct ModNode<'a> {
    /// The module's path below its crate root.
    pub path: ModulePath<'a>,
    pub file: FileId,
    /// Index of the module in its file's summary.
    pub local: usize,
    pub parent: Option<usize>,
    pub is_test: bool,
    /// The index of the module's file among the crate's files ([`Modules::files`] order).
    pub file_index: usize,
}

/// A module path below a crate root: where the crate includes the file (shared by every
/// node of the file in that crate), then the inline modules inside the file (shared by
/// every crate that includes the file).
#[derive(Debug, Clone, Copy)]
pub struct ModulePath<'a> {
    prefix: &'a [String],
    inline: &'a [String],
}

impl<'a> ModulePath<'a> {
    pub fn len(&self) -> usize {
        self.prefix.len() + self.inline.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a String> + use<'a> {
        self.prefix.iter().chain(self.inline)
    }

    pub fn last(&self) -> Option<&'a String> {
        self.inline.last().or(self.prefix.last())
    }

    /// Whether `segs` are this path's first segments.
    pub fn starts_with<'b>(&self, segs: impl IntoIterator<Item = &'b String>) -> bool {
        let mut mine = self.iter();
        segs.into_iter().all(|s| mine.next() == Some(s))
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().cloned().collect()
    }
}

impl<'a> IntoIterator for ModulePath<'a> {
    type Item = &'a String;
    type IntoIter = std::iter::Chain<std::slice::Iter<'a, String>, std::slice::Iter<'a, String>>;

    fn into_iter(self) -> Self::IntoIter {
        self.prefix.iter().chain(self.inline)
    }
}

/// The inline module tree of one file, built once per graph and shared by every crate that
/// includes the file: 1,000 binaries that include one file of 2,000 inline modules hold
/// its 2,000 nodes once, not 2 million.
#[derive(Debug)]
pub struct FileTree {
    nodes: Vec<TreeNode>,
}

#[derive(Debug)]
struct TreeNode {
    /// Names of the inline modules from the file's root module down to this one.
    inline: Box<[String]>,
    /// The inline parent (an index into the file's summary modules).
    parent: Option<usize>,
    /// The module or an inline module around it is test code.
    test: bool,
    /// Inline child modules by name (indices into the file's summary modules).
    children: HashMap<Box<str>, usize>,
}

impl FileTree {
    pub(super) fn new(summary: &FileSummary) -> Self {
        let mut nodes: Vec<TreeNode> = Vec::with_capacity(summary.modules.len());
        for m in &summary.modules {
            let parent_test = m.parent.and_then(|p| nodes.get(p)).is_some_and(|n| n.test);
            nodes.push(TreeNode {
                inline: m.inline_path.clone().into_boxed_slice(),
                parent: m.parent,
                test: m.is_test || parent_test,
                children: HashMap::new(),
            });
        }
        for (li, m) in summary.modules.iter().enumerate() {
            if let Some(p) = m.parent
                && let Some(name) = m.inline_path.last()
                && let Some(n) = nodes.get_mut(p)
            {
                n.children.insert(name.as_str().into(), li);
            }
        }
        FileTree { nodes }
    }
}

/// The module nodes of one crate, numbered in the order the crate's files were reached; a
/// file's modules are numbered from its root module on, in the order of its summary. Each
/// file is one part (where the crate includes it, and its shared [`FileTree`]), so a crate
/// costs a few words per file it includes, not per module.
#[derive(Debug, Default, Clone)]
pub struct Modules {
    parts: Vec<Part>,
    len: usize,
    /// The modules of `mod x;` declarations (the root module of `x`'s file), by declaring
    /// module and name. They shadow an inline module of the same name.
    declared: HashMap<usize, HashMap<Arc<str>, usize>>,
}

#[derive(Debug, Clone)]
struct Part {
    /// The node of the file's root module.
    base: usize,
    file: FileId,
    /// The path of the file's root module below the crate root.
    prefix: Arc<[String]>,
    /// The module that declares the file (none for a crate root).
    parent: Option<usize>,
    /// Every module of the file is test code in this crate.
    is_test: bool,
    tree: Arc<FileTree>,
}

impl Part {
    fn node(&self, file_index: usize, local: usize) -> ModNode<'_> {
        let n = &self.tree.nodes[local];
        ModNode {
            path: ModulePath {
                prefix: &self.prefix,
                inline: &n.inline,
            },
            file: self.file,
            local,
            parent: match n.parent {
                Some(p) => Some(self.base + p),
                None => self.parent,
            },
            is_test: self.is_test || n.test,
            file_index,
        }
    }
}

impl Modules {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The index of the file of module node `m` among the crate's files.
    fn part(&self, m: usize) -> usize {
        assert!(m < self.len, "module node {m} of {}", self.len);
        self.parts.partition_point(|p| p.base <= m) - 1
    }

    /// Module node `m` (panics past the last node, like indexing).
    pub fn get(&self, m: usize) -> ModNode<'_> {
        let i = self.part(m);
        let p = &self.parts[i];
        p.node(i, m - p.base)
    }

    /// The child module `name` of module node `m`.
    pub fn child(&self, m: usize, name: &str) -> Option<usize> {
        if let Some(&c) = self.declared.get(&m).and_then(|d| d.get(name)) {
            return Some(c);
        }
        let p = &self.parts[self.part(m)];
        p.tree.nodes[m - p.base]
            .children
            .get(name)
            .map(|&l| p.base + l)
    }

    /// Every module node, in order.
    pub fn iter(&self) -> impl Iterator<Item = ModNode<'_>> {
        self.parts
            .iter()
            .enumerate()
            .flat_map(|(i, p)| (0..p.tree.nodes.len()).map(move |l| p.node(i, l)))
    }

    /// The crate's files in the order they were reached (each at most once), with the node
    /// of the file's root module and the number of its modules: (file, node, modules).
    pub fn files(&self) -> impl Iterator<Item = (FileId, usize, usize)> {
        self.parts
            .iter()
            .map(|p| (p.file, p.base, p.tree.nodes.len()))
    }

    /// Module node `node` is the root module of the file that `mod name;` in module node
    /// `parent` declares.
    pub(super) fn declare(&mut self, parent: usize, name: Arc<str>, node: usize) {
        self.declared.entry(parent).or_default().insert(name, node);
    }

    /// Add a file's modules; the node of its root module (the next node, also when the
    /// file has no modules because it could not be read).
    pub(super) fn push(
        &mut self,
        file: FileId,
        prefix: Arc<[String]>,
        parent: Option<usize>,
        is_test: bool,
        tree: Arc<FileTree>,
    ) -> usize {
        let base = self.len;
        if !tree.nodes.is_empty() {
            self.len += tree.nodes.len();
            self.parts.push(Part {
                base,
                file,
                prefix,
                parent,
                is_test,
                tree,
            });
        }
        base
    }
}

/// One copy of each module path prefix and module name in a graph: a file included by many
/// targets (1,000 binaries sharing a module file) costs a few words per target.
#[derive(Default)]
pub(super) struct Interner {
    paths: HashSet<Arc<[String]>>,
    names: HashSet<Arc<str>>,
}

impl Interner {
    pub(super) fn path(&mut self, p: Vec<String>) -> Arc<[String]> {
        if let Some(a) = self.paths.get(p.as_slice()) {
            return a.clone();
        }
        let a: Arc<[String]> = p.into();
        self.paths.insert(a.clone());
        a
    }

    pub(super) fn name(&mut self, n: &str) -> Arc<str> {
        if let Some(a) = self.names.get(n) {
            return a.clone();
        }
        let a: Arc<str> = n.into();
        self.names.insert(a.clone());
        a
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{CrateGraph, MAX_MODULE_DEPTH, build};
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn graph(root: &Path) -> CrateGraph<'static> {
        let root = root.canonicalize().expect("canonical");
        let unit = crate::workspace::load_unit(&crate::vfs::Disk, &root, &root).expect("unit");
        build(&crate::vfs::Disk, &unit, &root)
    }

    const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

    /// Module path segments held by the graph, counting a shared path or tree once.
    fn segments_held(g: &CrateGraph) -> usize {
        let mut prefixes: HashSet<*const [String]> = HashSet::new();
        let mut trees: HashSet<*const FileTree> = HashSet::new();
        let parts = g.crates.iter().flat_map(|c| &c.modules.parts);
        let mut held = 0;
        for p in parts {
            if prefixes.insert(Arc::as_ptr(&p.prefix)) {
                held += p.prefix.len();
            }
            if trees.insert(Arc::as_ptr(&p.tree)) {
                held += p.tree.nodes.iter().map(|n| n.inline.len()).sum::<usize>();
            }
        }
        held
    }

    /// A `#[path]` chain 1,000 files deep (issue 10, item 8; 10,000 deep took 1.4 GB): the
    /// files past the module depth limit are crates of their own, and each is walked below
    /// one root at most, so the segments held grow linearly (they grew with the chain's
    /// length times the depth limit squared, about 1.9 million here).
    #[test]
    fn a_path_chain_is_walked_once() {
        let d = tempfile::tempdir().expect("tempdir");
        let n = 1000;
        write(d.path(), "Cargo.toml", MANIFEST);
        write(d.path(), "src/lib.rs", "#[path = \"c0.rs\"]\npub mod c0;\n");
        for i in 0..n {
            let next = format!("#[path = \"c{}.rs\"]\npub mod c{};\n", i + 1, i + 1);
            let text = if i + 1 < n {
                next.as_str()
            } else {
                "pub fn f() {}\n"
            };
            write(d.path(), &format!("src/c{i}.rs"), text);
        }
        let g = graph(d.path());
        assert_eq!(g.files.len(), n + 1);
        let nodes: usize = g.crates.iter().map(|c| c.modules.len()).sum();
        assert!(
            nodes <= 2 * (n + 1),
            "{nodes} module nodes for {} files",
            n + 1
        );
        let held = segments_held(&g);
        assert!(
            held <= 2 * (n + 1) * MAX_MODULE_DEPTH,
            "{held} path segments for {} files",
            n + 1
        );
        // Every file is still linted: as a module of the chain or as a crate of its own.
        let mut covered: HashSet<FileId> = HashSet::new();
        for c in &g.crates {
            covered.extend(c.modules.iter().map(|m| m.file));
        }
        assert_eq!(covered.len(), n + 1);
    }

    /// 200 binaries include one file with 50 inline modules: its module tree is held once,
    /// whatever the number of targets that include it; each target holds one part per file.
    #[test]
    fn targets_sharing_a_module_file_share_its_tree() {
        let d = tempfile::tempdir().expect("tempdir");
        let bins = 200;
        write(d.path(), "Cargo.toml", MANIFEST);
        for i in 0..bins {
            write(
                d.path(),
                &format!("src/bin/b{i}.rs"),
                "#[path = \"../shared.rs\"]\nmod shared;\nfn main() {}\n",
            );
        }
        let shared: String = (0..50)
            .map(|m| format!("pub mod m{m} {{ pub mod inner {{}} }}\n"))
            .collect();
        write(d.path(), "src/shared.rs", &shared);
        let g = graph(d.path());
        assert_eq!(g.crates.len(), bins);
        let per_target = 1 + 1 + 50 * 2; // main, shared, m*, m*::inner
        assert!(g.crates.iter().all(|c| c.modules.len() == per_target));
        assert!(g.crates.iter().all(|c| c.modules.parts.len() == 2));
        // One prefix `[shared]` and the inline paths of shared.rs (`m*`, `m*::inner`).
        assert_eq!(segments_held(&g), 1 + 50 + 2 * 50);
        let shared_trees: HashSet<*const FileTree> = g
            .crates
            .iter()
            .map(|c| Arc::as_ptr(&c.modules.parts[1].tree))
            .collect();
        assert_eq!(shared_trees.len(), 1);
        for c in &g.crates {
            let root = c.modules.get(0);
            assert!(root.path.is_empty() && root.parent.is_none());
            let sh = c.modules.child(0, "shared").expect("shared");
            assert_eq!(sh, 1);
            let m7 = c.modules.child(sh, "m7").expect("m7");
            let node = c.modules.get(m7);
            assert_eq!(node.path.to_vec(), ["shared", "m7"]);
            assert_eq!(node.parent, Some(sh));
            assert_eq!(node.file, c.modules.get(sh).file);
            let inner = c.modules.child(m7, "inner").expect("inner");
            assert_eq!(
                c.modules.get(inner).path.to_vec(),
                ["shared", "m7", "inner"]
            );
            assert_eq!(c.modules.get(inner).parent, Some(m7));
            assert_eq!(c.modules.child(m7, "m7"), None);
        }
        let nodes: Vec<ModNode> = g.crates[0].modules.iter().collect();
        assert_eq!(nodes.len(), per_target);
        assert!(nodes.iter().enumerate().all(|(i, n)| {
            let m = g.crates[0].modules.get(i);
            m.local == n.local && m.file == n.file && m.path.to_vec() == n.path.to_vec()
        }));
    }
}
