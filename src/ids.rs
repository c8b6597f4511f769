//! Typed indices for what crosses a module boundary: a file of a unit's crate graph, a
//! crate, a module of a crate, a function or a type definition of a file. Each is a number
//! into a table the graph or a file's summary owns; its type says which table, so a crate
//! index is never taken for a file's.
//!
//! `Debug` prints them as the bare numbers they wrap (a module as `(crate, node)`), as the
//! developer dumps (`SSOT_DUMP_SITES`) always showed them.

use std::fmt;

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize,
            serde::Deserialize,
        )]
        pub struct $name(usize);

        impl $name {
            pub const fn new(i: usize) -> Self {
                $name(i)
            }

            /// The position in the table it indexes.
            pub const fn index(self) -> usize {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

index! {
    /// A file of a unit's crate graph (`CrateGraph::files`).
    FileId
}

index! {
    /// A crate of a unit's crate graph (`CrateGraph::crates`): one per target.
    CrateId
}

/// A module of a crate: the crate, and the module's node in its module tree (see
/// `crate::crates::Modules`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModId {
    pub krate: CrateId,
    pub node: usize,
}

impl ModId {
    pub const fn new(krate: CrateId, node: usize) -> Self {
        ModId { krate, node }
    }

    /// The crate's root module.
    pub const fn root(krate: CrateId) -> Self {
        ModId { krate, node: 0 }
    }

    /// Another module of the same crate.
    pub const fn with_node(self, node: usize) -> Self {
        ModId {
            krate: self.krate,
            node,
        }
    }
}

impl fmt::Debug for ModId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.krate.0, self.node).fmt(f)
    }
}

/// A function of a file: an index into its summary's `fns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FnId {
    pub file: FileId,
    pub func: usize,
}

/// A struct or enum of a file: an index into its summary's `adts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdtId {
    pub file: FileId,
    pub adt: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debug output is the wrapped numbers, as the site dumps printed them before.
    #[test]
    fn debug_prints_the_numbers() {
        let m = ModId::new(CrateId::new(2), 7);
        assert_eq!(
            format!("{:?}", Some(m)),
            format!("{:?}", Some((2usize, 7usize)))
        );
        assert_eq!(format!("{:?}", FileId::new(3)), "3");
        assert_eq!(m.with_node(0), ModId::root(CrateId::new(2)));
        assert!(FileId::new(1) < FileId::new(2));
    }
}
