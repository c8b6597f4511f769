//! Zed runs `ssot-lint server` for Rust files: the `ssot-lint` found on the worktree's `PATH`
//! (install it first; see the README), with the `initialization_options` of Zed's
//! `lsp.ssot-lint` settings passed on (`select`, `ignore`, `debounceMs`).

use zed_extension_api::{self as zed, LanguageServerId, Result, settings::LspSettings};

struct SsotLint;

impl zed::Extension for SsotLint {
    fn new() -> Self {
        SsotLint
    }

    fn language_server_command(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let command = worktree.which("ssot-lint").ok_or_else(|| {
            "ssot-lint is not on PATH: install it (see its README), then restart the language server"
                .to_string()
        })?;
        Ok(zed::Command {
            command,
            args: vec!["server".to_string()],
            env: worktree.shell_env(),
        })
    }

    fn language_server_initialization_options(
        &mut self,
        id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(id.as_ref(), worktree)
            .ok()
            .and_then(|s| s.initialization_options))
    }

    fn language_server_workspace_configuration(
        &mut self,
        id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(id.as_ref(), worktree)
            .ok()
            .and_then(|s| s.settings))
    }
}

zed::register_extension!(SsotLint);
