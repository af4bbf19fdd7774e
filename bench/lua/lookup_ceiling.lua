#!/usr/bin/env sysbench
-- No proxy: the backend work of each plan of
--   SELECT id, name, email FROM user WHERE phone = <phone of a random existing user>
-- sent by hand straight to the shard servers, so the ratio of the two plans' event rates is
-- what the servers allow before any proxy cost (the ceiling of "lookup vs scatter" on this host).
--
--   --plan=scatter  the user query on every one of the --servers servers (what the proxy sends
--                   without phone_user_vdx: every shard, each missing or hitting its UNIQUE key)
--   --plan=lookup   SELECT phone, keyspace_id FROM <lookup_db>.phone_user_vdx WHERE phone IN (p)
--                   on one server, then the user query on another (what the proxy sends with
--                   the vindex: one lookup shard, one user shard)
--
-- Give the servers as --mysql-port=P1,P2,...: sysbench opens connections to the list in turn,
-- and each thread opens --servers of them. Which server holds the row does not change the cost
-- of a unique-key probe, so the lookup plan's two servers are picked by the user id.
--
--   sysbench bench/lua/lookup_ceiling.lua --mysql-port=P1,P2,P3,P4 --servers=4 --plan=lookup run

sysbench.cmdline.options = {
   users = {"Number of loaded users (ids 1..N)", 10000},
   phone_base = {"User <id> has phone phone_base + id", 5550000000},
   plan = {"scatter or lookup", "scatter"},
   servers = {"Servers listed in --mysql-port (connections per thread)", 4},
   user_table = {"Qualified user table on every server", "vt_customer.user"},
   lookup_table = {"Qualified lookup table on every server", "vt_lookup.phone_user_vdx"},
}

function thread_init()
   drv = sysbench.sql.driver()
   cons = {}
   for i = 1, sysbench.opt.servers do
      cons[i] = drv:connect()
   end
   if sysbench.opt.plan ~= "scatter" and sysbench.opt.plan ~= "lookup" then
      error("--plan must be scatter or lookup")
   end
end

function thread_done()
   for _, c in ipairs(cons) do
      c:disconnect()
   end
end

local function user_query(phone)
   return "SELECT id, name, email FROM " .. sysbench.opt.user_table .. " WHERE phone = " .. phone
end

function event()
   local id = sysbench.rand.uniform(1, sysbench.opt.users)
   local phone = sysbench.opt.phone_base + id
   local n = sysbench.opt.servers
   if sysbench.opt.plan == "scatter" then
      for _, c in ipairs(cons) do
         c:query(user_query(phone))
      end
   else
      cons[id % n + 1]:query("SELECT phone, keyspace_id FROM " .. sysbench.opt.lookup_table ..
                             " WHERE phone IN (" .. phone .. ")")
      cons[(id + 1) % n + 1]:query(user_query(phone))
   end
end
