"""The bench's Python helpers, one concept a module. The entry points are run through their bash
wrappers, which install the tools, make the temporary dir and clean up:

  matrix     the performance matrix behind `bench/run` (its docstring says how it measures)
  callgrind  proxy instructions per query under valgrind's callgrind, behind `bench/callgrind`

The machinery they share:

  common     repository root, logging, free ports, CellError
  options    the matrix's command line and its --quick-dependent defaults
  cells      the matrix cells (dimensions, default/quick/full sets, --only)
  cluster    one `shardgate local --shards N` with the bench's VSchemas
  sql        PyMySQL connections and statements
  sysbench   running sysbench, parsing its output and histogram, averaging rounds
  procstat   /proc figures: proxy and MariaDB CPU per query, RSS
  oltp       preparing the sbtest tables and running one cell direct vs proxy
  spread     the latency section's no-proxy server-spread figure
  floor      the hop floor section: direct vs a byte relay (examples/byte_relay.rs) vs proxy
  lookup     the lookup vs scatter section
  conns      the connection-count section
  targets    the targets of issue 6 and the judging of a matrix cell
  tables     the markdown table of each section
  report     the whole markdown report and its records (JSON, bench/README.md)

Run as `PYTHONPATH=bench python3 -m benchlib.matrix ...` (or benchlib.callgrind) from the
repository root, which is what the wrappers do.
"""
