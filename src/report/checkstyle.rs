//! Checkstyle XML: one `<file>` per file with findings, one `<error>` per finding.

use super::common::{self, Context, Printer, xml};
use crate::engine::Outcome;

pub struct Checkstyle;

impl Printer for Checkstyle {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n",
        );
        let mut current: Option<&str> = None;
        for f in &outcome.findings {
            if current != Some(f.file.as_str()) {
                if current.is_some() {
                    s.push_str("  </file>\n");
                }
                s.push_str(&format!("  <file name=\"{}\">\n", xml(&f.file)));
                current = Some(&f.file);
            }
            s.push_str(&format!(
                "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"ssot-lint.{}.{}\"/>\n",
                f.line,
                f.column,
                common::severity(f.code).as_str(),
                xml(&f.message),
                f.code,
                f.name
            ));
        }
        if current.is_some() {
            s.push_str("  </file>\n");
        }
        s.push_str("</checkstyle>\n");
        s
    }
}
