#!/usr/bin/env sysbench
-- Point select by a secondary-vindex column: every event is one
--   SELECT id, name, email FROM user WHERE phone = <phone of a random existing user>
-- against the `customer` keyspace, where user <id> (1..--users) has phone --phone-base + id.
-- With `phone_user_vdx` in the VSchema the proxy reads one lookup shard, then one user shard;
-- without it the query goes to every user shard. bench/lookup-vs-scatter loads the users and
-- runs this script; it has no prepare/cleanup of its own.
--
--   sysbench bench/lua/lookup_point_select.lua --mysql-db=customer --users=10000 run
--
-- --table names another table of the same shape (bench/run compares `user` with
-- `user_scatter`, the same rows without the phone vindex).

sysbench.cmdline.options = {
   users = {"Number of loaded users (ids 1..N)", 10000},
   phone_base = {"User <id> has phone phone_base + id", 5550000000},
   table = {"Table to query", "user"},
}

function thread_init()
   drv = sysbench.sql.driver()
   con = drv:connect()
   stmt = con:prepare("SELECT id, name, email FROM " .. sysbench.opt.table ..
                      " WHERE phone = ?")
   param = stmt:bind_create(sysbench.sql.type.BIGINT)
   stmt:bind_param(param)
end

function thread_done()
   stmt:close()
   con:disconnect()
end

function event()
   param:set(sysbench.opt.phone_base + sysbench.rand.uniform(1, sysbench.opt.users))
   stmt:execute()
end
