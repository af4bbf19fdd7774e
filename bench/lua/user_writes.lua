#!/usr/bin/env sysbench
-- A small OLTP write load on customer.user, one autocommit statement per event, picked at
-- random:
--   --select-pct %  SELECT id, name, email FROM user WHERE id = <random existing id>
--   --update-pct %  UPDATE user SET name = '<random>' WHERE id = <random existing id>
--   the rest        INSERT INTO user (id, name, email) VALUES (<new id>, 'w', 'w<new id>@example.com')
-- Existing ids are 1..--users. New ids are --insert-from + a per-thread counter (thread t
-- inserts insert_from + t, insert_from + t + threads, ...), so two runs with different
-- --insert-from never collide. With --stop-file, every thread stops (and sysbench prints its
-- final report over the time actually run) once that file exists, checked every 32 events.
-- bench/lookup-backfill loads the users and runs this script; it has no prepare/cleanup.
--
--   sysbench bench/lua/user_writes.lua --mysql-db=customer --users=1000000 \
--       --insert-from=1000000001 --threads=4 --time=10 --percentile=99 run

sysbench.cmdline.options = {
   users = {"Number of loaded users (ids 1..N)", 1000000},
   insert_from = {"First id of the users this run inserts", 1000000001},
   select_pct = {"Percent of events that are point SELECTs by id", 40},
   update_pct = {"Percent of events that are UPDATEs of name by id", 40},
   stop_file = {"Stop when this file exists (empty: run for --time)", ""},
}

function thread_init(thread_id)
   drv = sysbench.sql.driver()
   con = drv:connect()
   tid = thread_id
   inserted = 0
   events = 0
   threads = sysbench.opt.threads
end

function thread_done()
   con:disconnect()
end

local function stop_requested()
   local f = io.open(sysbench.opt.stop_file, "r")
   if f then
      f:close()
      return true
   end
   return false
end

function event()
   events = events + 1
   if sysbench.opt.stop_file ~= "" and events % 32 == 0 and stop_requested() then
      return true -- ends this thread's loop (see sysbench's thread_run)
   end
   local p = sysbench.rand.uniform(1, 100)
   if p <= sysbench.opt.select_pct then
      con:query(string.format("SELECT id, name, email FROM user WHERE id = %d",
                              sysbench.rand.uniform(1, sysbench.opt.users)))
   elseif p <= sysbench.opt.select_pct + sysbench.opt.update_pct then
      con:query(string.format("UPDATE user SET name = '%s' WHERE id = %d",
                              sysbench.rand.string("name-###########"),
                              sysbench.rand.uniform(1, sysbench.opt.users)))
   else
      local id = sysbench.opt.insert_from + tid + inserted * threads
      inserted = inserted + 1
      con:query(string.format(
                   "INSERT INTO user (id, name, email) VALUES (%d, 'w', 'w%d@example.com')",
                   id, id))
   end
end
