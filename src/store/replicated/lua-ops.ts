/**
 * The rules of the replicated value types in Lua: `applyOps` of src/entity/replicated/apply.ts,
 * rule for rule. Part of the apply script (scripts.ts), which defines what it uses: `ARGV`, `seq`,
 * `nowUs`/`nowMs`, `get`, `purge`, `cmd` (the command's changes), `count`, `int`, `MAX`.
 * An operation is its code (ending in `*` when a map entry's sequence follows), its cell, the
 * arguments its code uses (`OP_WIDTH` in codec.ts: inc a, lww a b, vote a b c, …), then the
 * entry, so that a counter increment costs three arguments.
 */
export const LUA_APPLY_OPS = `-- One command's operations into cmd: nil, or {"refused", reason} / {"error", message}.
local WIDTH = {inc = 1, flag = 0, lww = 2, fww = 1, sadd = 0, srem = 0, vote = 3, unvote = 0,
  mrem = 2, acq = 2, rel = 1, fence = 1}
local function apply(nArgs, observed, at)
  local next = seq + 1
  if observed > seq then observed = seq end
  local o, stop = at, at + nArgs
  while o < stop do
    local code, entry = ARGV[o], ''
    local withEntry = string.byte(code, -1) == 42
    if withEntry then code = string.sub(code, 1, -2) end
    local width = WIDTH[code]
    if width == nil then return {'error', 'unknown operation ' .. tostring(code)} end
    local cell, a, b, c = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
    o = o + 2 + width
    if withEntry then entry = ARGV[o]; o = o + 1 end
    if o > stop then return {'error', 'bad operation arguments'} end
    local current = get(cell)
    if code == 'inc' then
      local by = tonumber(a)
      if by == nil or by ~= math.floor(by) or by > MAX or by < -MAX then return {'error', 'bad increment'} end
      local v = tonumber(current or '0') + by
      if v > MAX or v < -MAX then return {'refused', 'counter would leave the safe integer range'} end
      cmd[cell] = int(v)
    elseif code == 'flag' then
      cmd[cell] = '1'
    elseif code == 'lww' then
      local clock = nil
      if current ~= nil then clock = split(current) end
      if b == '' then
        local at = nowUs
        if clock ~= nil and clock + 1 > at then at = clock + 1 end
        cmd[cell] = int(at) .. ' ' .. a
      else
        local mine = count(b)
        if mine == nil then return {'error', 'bad clock'} end
        if clock == nil or mine > clock then cmd[cell] = b .. ' ' .. a end
      end
    elseif code == 'fww' then
      if current == nil then cmd[cell] = int(nowUs) .. ' ' .. a end
    elseif code == 'sadd' then
      cmd[cell] = int(next)
    elseif code == 'srem' then
      if current ~= nil and tonumber(current) <= observed then cmd[cell] = false end
    elseif code == 'vote' then
      local life = count(b)
      if life == nil then return {'error', 'bad vote TTL'} end
      if life > 0 then
        purge(c, function(v) local e = split(v); return e > 0 and e <= nowMs end)
        cmd[cell] = int(nowMs + life) .. ' ' .. a
      else
        cmd[cell] = '0 ' .. a
      end
    elseif code == 'unvote' then
      cmd[cell] = false
    elseif code == 'mrem' then
      if current ~= nil and tonumber(current) <= observed then
        cmd[cell] = false
        if a ~= '' then cmd[a] = false end
        if b ~= '' then purge(b, function() return true end) end
      end
    elseif code == 'acq' then
      local life = count(b)
      if life == nil or life < 1 or a == '' then return {'error', 'bad lease'} end
      local token, expires, holder = lease(current)
      local live = holder ~= '' and expires > nowMs
      if live and holder == a then cmd[cell] = int(token) .. ' ' .. int(nowMs + life) .. ' ' .. a
      elseif not live then cmd[cell] = int(token + 1) .. ' ' .. int(nowMs + life) .. ' ' .. a end
    elseif code == 'rel' then
      local token, expires, holder = lease(current)
      if holder == a and expires > nowMs then cmd[cell] = int(token) .. ' 0 ' end
    elseif code == 'fence' then
      local token = lease(current)
      if tonumber(a) ~= token then
        return {'refused', 'fencing token ' .. a .. ' is stale (current: ' .. int(token) .. ')'}
      end
    end
    if entry ~= '' then cmd[entry] = int(next) end
  end
  return nil
end
`;
