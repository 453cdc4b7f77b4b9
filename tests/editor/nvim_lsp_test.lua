-- End-to-end test of `vigil lsp` through Neovim's built-in LSP client, headless.
--
-- Run by tests/editor/run.sh, which sets:
--   VIGIL_BIN   the vigil binary (started as `VIGIL_BIN lsp`)
--   VIGIL_BOOK  a scratch copy of rulebooks/cn-national (edited in buffers only, never saved)
--
-- Written for Neovim 0.7 (Debian bookworm's) and later: `vim.lsp.start_client` +
-- `vim.lsp.buf_attach_client`, `vim.lsp.buf_request_sync`, `vim.wait`; nothing newer.
-- Prints one "ok: …" / "FAIL: …" line per step and a summary; exits 0 only if every step passed.

local TIMEOUT = 10000 -- ms, for every wait and request

local passed, failed = 0, 0

local function out(s)
  io.stdout:write(s .. "\n")
  io.stdout:flush()
end

local function finish()
  out(string.format("editor test: %d passed, %d failed", passed, failed))
  if failed == 0 then
    vim.cmd("qall!")
  else
    vim.cmd("1cquit")
  end
end

-- A step: `fn` returns nothing on success, or raises an error with the failure message.
-- A failed step stops the run (later steps depend on the session being sound).
local function step(name, fn)
  -- pcall, not xpcall: a `fail` message is the whole story; any other error carries its
  -- file:line already.
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    out("ok: " .. name)
    return true
  end
  failed = failed + 1
  out("FAIL: " .. name .. ": " .. tostring(err))
  return false
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function wait_for(what, cond)
  if not vim.wait(TIMEOUT, cond, 20) then
    fail("timed out after %d ms waiting for %s", TIMEOUT, what)
  end
end

local bin = os.getenv("VIGIL_BIN")
local book = os.getenv("VIGIL_BOOK")
if not bin or bin == "" or not book or book == "" then
  out("FAIL: setup: VIGIL_BIN and VIGIL_BOOK must be set (run tests/editor/run.sh)")
  failed = 1
  finish()
  return
end

vim.o.swapfile = false
vim.o.hidden = true

-- Every publishDiagnostics, by URI: the latest params (with the version the server checked).
local published = {}
local exit_code = nil
local client_id = nil
local limits_buf, limits_uri = nil, nil

local function line_of(buf, needle, from)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i = (from or 1), #lines do
    local col = lines[i]:find(needle, 1, true)
    if col then
      return i - 1, col - 1, lines[i] -- 0-based line, 0-based byte column
    end
  end
  fail("%q is not in the buffer", needle)
end

local function request(buf, method, params)
  if exit_code ~= nil then
    fail("%s: the server has exited (code %s)", method, tostring(exit_code))
  end
  local results, err = vim.lsp.buf_request_sync(buf, method, params, TIMEOUT)
  if not results then
    fail("%s: no answer (%s)", method, tostring(err))
  end
  local r = results[client_id]
  if not r then
    fail("%s: no answer from the vigil client", method)
  end
  if r.err then
    fail("%s: error response: %s", method, vim.inspect(r.err))
  end
  return r.result
end

local function pos_params(buf, line, character)
  return {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = character },
  }
end

local function version_of(buf)
  return vim.lsp.util.buf_versions[buf] or 0
end

-- Waits for diagnostics of `uri` checked at `min_version` or later that satisfy `pred`.
local function wait_diagnostics(uri, min_version, what, pred)
  local last
  local ok = vim.wait(TIMEOUT, function()
    if exit_code ~= nil then
      return true
    end
    local p = published[uri]
    if not p then
      return false
    end
    last = p
    if p.version ~= nil and p.version < min_version then
      return false
    end
    return pred(p.diagnostics)
  end, 20)
  if exit_code ~= nil then
    fail("the server exited (code %s) while waiting for %s", tostring(exit_code), what)
  end
  if not ok then
    fail("timed out after %d ms waiting for %s; last published: %s", TIMEOUT, what,
      last and vim.inspect(last) or "nothing")
  end
  return published[uri]
end

local function edit_line(buf, line, text)
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { text })
end

-- Opens a file of the copy in a buffer attached to the client.
local function open(name)
  local path = book .. "/" .. name
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = "vigil"
  if not vim.lsp.buf_attach_client(buf, client_id) then
    fail("could not attach the client to %s", path)
  end
  return buf, vim.uri_from_bufnr(buf)
end

local function locations(result)
  if result == nil then
    return {}
  end
  if result.uri then
    return { result }
  end
  if result.targetUri then
    return { { uri = result.targetUri, range = result.targetSelectionRange } }
  end
  return result
end

local function main()
  if not step("start `" .. bin .. " lsp` and initialize", function()
    local ok, id = pcall(vim.lsp.start_client, {
      name = "vigil",
      cmd = { bin, "lsp" },
      root_dir = book,
      handlers = {
        ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
          if result and result.uri then
            published[result.uri] = result
          end
          return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
        end,
      },
      on_exit = function(code, _signal)
        exit_code = code
      end,
    })
    if not ok or not id then
      fail("the client did not start: %s", tostring(id))
    end
    client_id = id
    limits_buf, limits_uri = open("limits.vigil")
    wait_for("the initialize handshake", function()
      if exit_code ~= nil then
        fail("the server exited during initialization (code %s)", tostring(exit_code))
      end
      local c = vim.lsp.get_client_by_id(client_id)
      return c ~= nil and c.initialized == true
    end)
    local caps = vim.lsp.get_client_by_id(client_id).server_capabilities
      or vim.lsp.get_client_by_id(client_id).resolved_capabilities
    if not caps then
      fail("no server capabilities")
    end
  end) then
    return
  end

  if not step("diagnostics on open: limits.vigil is clean", function()
    wait_diagnostics(limits_uri, 0, "diagnostics for limits.vigil", function(d)
      if #d > 0 then
        fail("expected no diagnostics, got %s", vim.inspect(d))
      end
      return true
    end)
  end) then
    return
  end

  local pric_line, pric_col, pric_text
  if not step("a misspelt field (line.pric -> line.price) gives V0202 at its line and column", function()
    pric_line, pric_col, pric_text = line_of(limits_buf, "line.pric is some(p)")
    edit_line(limits_buf, pric_line, pric_text:gsub("line%.pric is some", "line.price is some", 1))
    local v = version_of(limits_buf)
    local col = pric_col + #"line." -- the field, after `line.` (the line is ASCII: bytes = UTF-16)
    wait_diagnostics(limits_uri, v, "V0202 at " .. pric_line .. ":" .. col, function(d)
      for _, x in ipairs(d) do
        if x.code == "V0202" then
          local s, e = x.range.start, x.range["end"]
          if s.line ~= pric_line or s.character ~= col then
            fail("V0202 at %d:%d, expected %d:%d: %s", s.line, s.character, pric_line, col,
              x.message)
          end
          if e.line ~= pric_line or e.character ~= col + #"price" then
            fail("V0202 ends at %d:%d, expected %d:%d", e.line, e.character, pric_line,
              col + #"price")
          end
          if x.severity ~= 1 then
            fail("V0202 severity %s, expected 1 (error)", tostring(x.severity))
          end
          return true
        end
      end
      return false
    end)
    -- Neovim's own diagnostic list has it too (what the officer sees).
    local shown = vim.diagnostic.get(limits_buf)
    local seen = false
    for _, x in ipairs(shown) do
      if x.lnum == pric_line and x.col == col then
        seen = true
      end
    end
    if not seen then
      fail("vim.diagnostic.get has no diagnostic at %d:%d: %s", pric_line, col, vim.inspect(shown))
    end
  end) then
    return
  end

  if not step("fixing the field clears the diagnostics", function()
    edit_line(limits_buf, pric_line, pric_text)
    local v = version_of(limits_buf)
    wait_diagnostics(limits_uri, v, "no diagnostics after the fix", function(d)
      return #d == 0
    end)
  end) then
    return
  end

  step("hover on hilist_code shows 医保目录编码", function()
    local l, c = line_of(limits_buf, "line.hilist_code is some(code)")
    local r = request(limits_buf, "textDocument/hover", pos_params(limits_buf, l, c + #"line.hil"))
    if not r or not r.contents then
      fail("no hover at %d:%d", l, c)
    end
    local text = type(r.contents) == "table" and (r.contents.value or vim.inspect(r.contents))
      or tostring(r.contents)
    if not text:find("医保目录编码", 1, true) then
      fail("hover text lacks 医保目录编码: %s", text)
    end
  end)

  step("completion after typing `claim.` on a new line lists psn_no", function()
    local l = line_of(limits_buf, "let cap = catalogue_row(claim, line)")
    local typed = "  when claim."
    vim.api.nvim_buf_set_lines(limits_buf, l + 1, l + 1, false, { typed })
    local v = version_of(limits_buf)
    -- The server has the new text once it published diagnostics for it (it does not parse).
    wait_diagnostics(limits_uri, v, "diagnostics for the half-typed line", function(d)
      return #d > 0
    end)
    local r = request(limits_buf, "textDocument/completion", pos_params(limits_buf, l + 1, #typed))
    local items = r and (r.items or r) or {}
    local labels = {}
    local found = false
    for _, it in ipairs(items) do
      labels[#labels + 1] = it.label
      if it.label == "psn_no" then
        found = true
      end
    end
    -- Take the typed line out again, whatever the outcome.
    vim.api.nvim_buf_set_lines(limits_buf, l + 1, l + 2, false, {})
    if not found then
      fail("psn_no not among %d items: %s", #labels, table.concat(labels, ", "))
    end
    wait_diagnostics(limits_uri, version_of(limits_buf), "the clean text again", function(d)
      return #d == 0
    end)
  end)

  step("references of rule id CN-GEND-001 (from an `expect`)", function()
    local l, c = line_of(limits_buf, "expect CN-GEND-001 at claim")
    local params = pos_params(limits_buf, l, c + #"expect CN-")
    params.context = { includeDeclaration = true }
    local locs = locations(request(limits_buf, "textDocument/references", params))
    if #locs < 1 then
      fail("no references")
    end
    local decl = line_of(limits_buf, 'rule CN-GEND-001 "')
    local has_decl = false
    for _, x in ipairs(locs) do
      if x.uri == limits_uri and x.range.start.line == decl then
        has_decl = true
      end
    end
    if not has_decl then
      fail("the rule's declaration (line %d) is not among %s", decl, vim.inspect(locs))
    end
  end)

  local rx_buf, rx_uri
  step("definition of const OUTPATIENT_RX_DAYS jumps to its declaration", function()
    rx_buf, rx_uri = open("prescriptions.vigil")
    local decl_l, decl_c = line_of(rx_buf, "const OUTPATIENT_RX_DAYS")
    decl_c = decl_c + #"const "
    local use_l, use_c = line_of(rx_buf, "else OUTPATIENT_RX_DAYS")
    use_c = use_c + #"else " + 1
    local locs = locations(request(rx_buf, "textDocument/definition",
      pos_params(rx_buf, use_l, use_c)))
    if #locs ~= 1 then
      fail("expected one location, got %s", vim.inspect(locs))
    end
    local s = locs[1].range.start
    if locs[1].uri ~= rx_uri or s.line ~= decl_l or s.character ~= decl_c then
      fail("definition at %s %d:%d, expected %s %d:%d", locs[1].uri, s.line, s.character, rx_uri,
        decl_l, decl_c)
    end
    -- And through Neovim's own command, as `gd` would: the cursor lands on the declaration.
    vim.api.nvim_win_set_cursor(0, { use_l + 1, use_c })
    vim.lsp.buf.definition()
    wait_for("the cursor to move to the declaration", function()
      local cur = vim.api.nvim_win_get_cursor(0)
      return vim.api.nvim_get_current_buf() == rx_buf and cur[1] == decl_l + 1 and cur[2] == decl_c
    end)
  end)

  step("references of const RX_MAX_DRUGS", function()
    local buf = rx_buf or open("prescriptions.vigil")
    local l, c = line_of(buf, "const RX_MAX_DRUGS")
    local params = pos_params(buf, l, c + #"const " + 1)
    params.context = { includeDeclaration = false }
    local locs = locations(request(buf, "textDocument/references", params))
    if #locs < 1 then
      fail("no references")
    end
  end)

  step("rename of const RX_MAX_DRUGS edits its declaration and its uses", function()
    local buf = rx_buf or open("prescriptions.vigil")
    local l, c = line_of(buf, "const RX_MAX_DRUGS")
    local params = pos_params(buf, l, c + #"const " + 1)
    params.newName = "RX_DRUG_LIMIT"
    local edit = request(buf, "textDocument/rename", params)
    local count = 0
    for _, edits in pairs((edit or {}).changes or {}) do
      for _, e in ipairs(edits) do
        if e.newText ~= "RX_DRUG_LIMIT" then
          fail("an edit writes %s", vim.inspect(e.newText))
        end
        count = count + 1
      end
    end
    if count < 2 then
      fail("expected the declaration and its uses, got %d edits", count)
    end
  end)

  step("document symbols of limits.vigil list CN-PRICE-001", function()
    local r = request(limits_buf, "textDocument/documentSymbol",
      { textDocument = { uri = limits_uri } }) or {}
    for _, s in ipairs(r) do
      if s.name == "CN-PRICE-001" then
        return
      end
    end
    fail("CN-PRICE-001 not among %d symbols", #r)
  end)

  step("formatting limits.vigil answers without error", function()
    local r = request(limits_buf, "textDocument/formatting", {
      textDocument = { uri = limits_uri },
      options = { tabSize = 2, insertSpaces = true },
    })
    if r ~= nil and type(r) ~= "table" then
      fail("expected a list of edits, got %s", vim.inspect(r))
    end
    -- Applying them must leave a text that still checks clean.
    if r and #r > 0 then
      vim.lsp.util.apply_text_edits(r, limits_buf, "utf-16")
      wait_diagnostics(limits_uri, version_of(limits_buf), "diagnostics of the formatted text",
        function(d)
          return #d == 0
        end)
    end
  end)

  step("shutdown and exit", function()
    local c = vim.lsp.get_client_by_id(client_id)
    if not c then
      fail("the client is gone before shutdown (server exit code %s)", tostring(exit_code))
    end
    c.stop()
    wait_for("the server to exit", function()
      return exit_code ~= nil
    end)
    if exit_code ~= 0 then
      fail("the server exited with code %s", tostring(exit_code))
    end
  end)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  failed = failed + 1
  out("FAIL: internal error in the test script: " .. tostring(err))
end
finish()
