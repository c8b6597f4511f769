-- Neovim's built-in LSP client runs `ssot-lint server` on a workspace, as an editor user does
-- (`.ci/nvim-lsp.sh` calls it). It opens every file named in $SSOT_FILES (paths under
-- $SSOT_ROOT), waits until the server has published diagnostics for each, and writes them to
-- $SSOT_OUT as `path:line:column: CODE message`, the command line's `--format short`. Then,
-- in the first file with a finding, it hovers on that finding (the rule's documentation), asks
-- for its code actions, applies the preferred one with Neovim's own workspace-edit code, and
-- waits for the finding to go. Any failure exits non-zero (`:cquit`).
--
-- Works with Neovim 0.7 (Debian 12's: `vim.lsp.start_client` and `buf_attach_client`) and
-- with `vim.lsp.start` where there is one (0.8 and later).

local env = vim.env
local bin, root, out = env.SSOT_BIN, env.SSOT_ROOT, env.SSOT_OUT
local patience = 120000

local function fail(msg)
  io.stderr:write('nvim-lsp.lua: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local function main()
  if not (bin and root and out and env.SSOT_FILES) then
    fail('set SSOT_BIN, SSOT_ROOT, SSOT_FILES and SSOT_OUT')
  end
  local files = {}
  for _, f in ipairs(vim.split(env.SSOT_FILES, '\n', true)) do
    if f ~= '' then
      table.insert(files, f)
    end
  end

  -- How many times the server published diagnostics for each URI.
  local published = {}
  local show = vim.lsp.handlers['textDocument/publishDiagnostics']
  local config = {
    name = 'ssot-lint',
    cmd = { bin, 'server' },
    root_dir = root,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, cfg)
        show(err, result, ctx, cfg)
        published[result.uri] = (published[result.uri] or 0) + 1
      end,
    },
  }

  local client_id
  local bufs = {}
  for _, rel in ipairs(files) do
    vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/' .. rel))
    local buf = vim.api.nvim_get_current_buf()
    bufs[rel] = buf
    if vim.lsp.start then
      client_id = vim.lsp.start(config)
    else
      client_id = client_id or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(buf, client_id)
    end
  end
  if not client_id then
    fail('the client did not start')
  end
  local uri = function(rel)
    return vim.uri_from_bufnr(bufs[rel])
  end
  local all_published = vim.wait(patience, function()
    for _, rel in ipairs(files) do
      if not published[uri(rel)] then
        return false
      end
    end
    return true
  end, 20)
  if not all_published then
    fail('no diagnostics published for some of the files within ' .. patience .. ' ms')
  end

  local code_of = function(d)
    return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  end
  local lines, first = {}, nil
  for _, rel in ipairs(files) do
    for _, d in ipairs(vim.diagnostic.get(bufs[rel])) do
      local message = vim.split(d.message, '\n', true)[1]
      table.insert(lines, string.format('%s:%d:%d: %s %s', rel, d.lnum + 1, d.col + 1, code_of(d), message))
      if not first then
        first = { rel = rel, d = d }
      end
    end
  end
  table.sort(lines)
  local f = assert(io.open(out, 'w'))
  f:write(table.concat(lines, '\n'), '\n')
  f:close()
  if not first then
    fail('no finding in any file')
  end

  -- Hover, then the code action of the first finding, applied by Neovim.
  local buf, d = bufs[first.rel], first.d
  -- Neovim keeps byte columns; the protocol counts UTF-16 units.
  local function position(lnum, col)
    local line = vim.api.nvim_buf_get_lines(buf, lnum, lnum + 1, false)[1] or ''
    local _, utf16 = vim.str_utfindex(line, math.min(col, #line))
    return { line = lnum, character = utf16 }
  end
  local range = { start = position(d.lnum, d.col), ['end'] = position(d.end_lnum or d.lnum, d.end_col or d.col) }
  local lsp_d = { range = range, message = d.message, code = code_of(d), source = d.source }
  local client = vim.lsp.get_client_by_id(client_id)
  local hover = client.request_sync('textDocument/hover', {
    textDocument = { uri = uri(first.rel) },
    position = lsp_d.range.start,
  }, 10000, buf)
  local doc = hover and hover.result and hover.result.contents and hover.result.contents.value or ''
  if not doc:find('# ' .. code_of(first.d), 1, true) then
    fail('hover on ' .. first.rel .. ' shows no documentation of ' .. code_of(first.d) .. ': ' .. vim.inspect(hover))
  end
  local actions = client.request_sync('textDocument/codeAction', {
    textDocument = { uri = uri(first.rel) },
    range = lsp_d.range,
    context = { diagnostics = { lsp_d } },
  }, 10000, buf)
  local preferred
  for _, a in ipairs(actions and actions.result or {}) do
    if a.isPreferred and a.edit then
      preferred = a
    end
  end
  if not preferred then
    fail('no preferred code action for ' .. code_of(first.d) .. ' in ' .. first.rel .. ': ' .. vim.inspect(actions))
  end
  local before = #vim.diagnostic.get(buf)
  local seen = published[uri(first.rel)]
  vim.lsp.util.apply_workspace_edit(preferred.edit, client.offset_encoding or 'utf-16')
  local gone = vim.wait(patience, function()
    return published[uri(first.rel)] > seen and #vim.diagnostic.get(buf) == before - 1
  end, 20)
  if not gone then
    fail('after "' .. preferred.title .. '" the finding is still there: ' .. vim.inspect(vim.diagnostic.get(buf)))
  end
  io.stderr:write('nvim-lsp.lua: hover shown, "' .. preferred.title .. '" applied, its finding gone\n')
  vim.cmd('qall!')
end

local ok, err = pcall(main)
if not ok then
  fail(tostring(err))
end
