# syntax=docker/dockerfile:1
# shardgate image: a release build on Debian 12 (bookworm), run as an unprivileged user in a
# distroless runtime. No Docker engine is available where shardgate is developed and tested:
# this file is checked by reading only (see README, "Container image").
#
#   docker build -t shardgate .
#   docker run --rm -p 15306:15306 -p 15000:15000 -v "$PWD/myconfig:/etc/shardgate" shardgate
#
# Mount a directory with shardgate.toml and its vschema/ folder at /etc/shardgate. The config
# must listen on all interfaces so the ports are reachable from outside the container:
#   [server]
#   mysql_listen = "0.0.0.0:15306"
#   http_listen = "0.0.0.0:15000"      # /healthz, /metrics, /debug/status; the HEALTHCHECK uses it
# ALTER VSCHEMA and the lookup-vindex workflows rewrite vschema/*.json in place (write a temporary
# file, rename it over the old one), so the mounted vschema/ directory must be writable by uid
# 65532 (or run the container with --user set to the directory's owner).
# `shardgate local` needs MariaDB and is meant for a workstation (scripts/demo), not this image;
# docker-compose.yml runs the proxy with two MariaDB shards (config dir: deploy/compose/).

FROM rust:1-bookworm AS builder
# protoc: the etcd client crate (etcd-client) generates its gRPC code at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends protobuf-compiler \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target dir are build caches kept between builds; the binary is copied out
# of the cached target dir in the same step. The release profile keeps line tables only
# (Cargo.toml); objcopy moves them to shardgate.debug (the debuginfo stage below) and the image
# gets the binary without them: 39 MB instead of 171 MB. Panic messages still name their source
# line (compiled in, not read from debug info); backtraces then show function names only.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin shardgate \
    && objcopy --only-keep-debug target/release/shardgate /usr/local/lib/shardgate.debug \
    && objcopy --strip-debug --add-gnu-debuglink=/usr/local/lib/shardgate.debug \
        target/release/shardgate /usr/local/bin/shardgate \
    && mkdir -p /rootfs/etc/shardgate/vschema

# The split debug info, when wanted (gdb, perf, addr2line follow the binary's debuglink):
#   docker build --target debuginfo --output type=local,dest=debuginfo .
FROM scratch AS debuginfo
COPY --from=builder /usr/local/lib/shardgate.debug /

# distroless/cc: glibc, libgcc and CA certificates, no shell and no package manager (about
# 25 MB against about 75 MB for debian:bookworm-slim). The binary needs nothing else: TLS is
# rustls, the allocator mimalloc, and the HEALTHCHECK is the binary's own probe (no curl).
# Both stages are Debian 12, so the binary runs on the glibc it was linked against. The
# :nonroot tag runs as uid/gid 65532 ("nonroot"). For a shell to debug with, use the
# :debug-nonroot tag (busybox) instead.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/shardgate /usr/local/bin/shardgate
# The config dir, owned by the proxy's user: ALTER VSCHEMA writes vschema/ (see above).
COPY --from=builder --chown=65532:65532 /rootfs/etc/shardgate /etc/shardgate
USER 65532:65532
WORKDIR /etc/shardgate
# 15306: MySQL clients; 15000: HTTP (/healthz, /metrics, /debug/status).
EXPOSE 15306 15000
# SIGTERM drains (no new clients, transactions get server.shutdown_grace_ms, 8 s by default,
# below Docker's 10 s before SIGKILL), also as PID 1: the binary handles the signal itself.
STOPSIGNAL SIGTERM
# `shardgate healthcheck`: HTTP/1.0 GET of /healthz with a 2 s timeout, exit 0 on 200 (every
# shard answered recently), 1 otherwise (503 while a shard is silent or while shutting down).
# Needs `http_listen = "0.0.0.0:15000"` (or 127.0.0.1:15000) in the config.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/shardgate", "healthcheck", "--url", "http://127.0.0.1:15000/healthz"]
ENTRYPOINT ["/usr/local/bin/shardgate"]
CMD ["serve", "--config", "/etc/shardgate/shardgate.toml"]
