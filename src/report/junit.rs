//! JUnit XML, valid against the common `junit-10.xsd` (Jenkins' and pytest's schema): a test
//! suite per file with findings, carrying the file in its `file` attribute, and a failed test
//! case per finding, named `path:line:column CODE` (the schema has no line attribute); a clean
//! run is one passing test case.

use super::common::{Context, Printer, xml};
use crate::diagnostic::Finding;
use crate::engine::Outcome;

pub struct Junit;

impl Printer for Junit {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let n = outcome.findings.len();
        let mut s = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ssot-lint\" tests=\"{}\" failures=\"{n}\" errors=\"0\">\n",
            n.max(1)
        );
        if n == 0 {
            s.push_str("  <testsuite name=\"ssot-lint\" tests=\"1\" failures=\"0\" errors=\"0\">\n    <testcase name=\"ssot-lint\" classname=\"ssot-lint\"/>\n  </testsuite>\n");
        }
        let mut files: Vec<(&str, Vec<&Finding>)> = Vec::new();
        for f in &outcome.findings {
            match files.last_mut() {
                Some((p, v)) if *p == f.file => v.push(f),
                _ => files.push((&f.file, vec![f])),
            }
        }
        for (path, fs) in files {
            let path = xml(path);
            s.push_str(&format!(
                "  <testsuite name=\"{path}\" tests=\"{}\" failures=\"{}\" errors=\"0\" file=\"{path}\">\n",
                fs.len(),
                fs.len()
            ));
            for f in fs {
                let message = xml(&f.message);
                let at = format!("{path}:{}:{}", f.line, f.column);
                s.push_str(&format!(
                    "    <testcase name=\"{at} {code}\" classname=\"{path}\">\n      <failure message=\"{message}\" type=\"{code}\">{at}: {code} {message}</failure>\n    </testcase>\n",
                    code = f.code,
                ));
            }
            s.push_str("  </testsuite>\n");
        }
        s.push_str("</testsuites>\n");
        s
    }
}
