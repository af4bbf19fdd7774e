# syntax=docker/dockerfile:1
# shardgate image: a release build on Debian 12 (bookworm), run as an unprivileged user.
#
#   docker build -t shardgate .
#   docker run --rm -p 15306:15306 -v "$PWD/deploy:/etc/shardgate" shardgate
#
# Mount a directory with shardgate.toml (set `mysql_listen = "0.0.0.0:15306"` so the port is
# reachable from outside the container) and its vschema/ folder at /etc/shardgate.
# `shardgate local` needs MariaDB and is meant for a workstation (scripts/demo), not this image.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --bin shardgate \
    && cp target/release/shardgate /usr/local/bin/shardgate

FROM debian:bookworm-slim
# The proxy rewrites VSchema files in place (ALTER VSCHEMA), so its config dir is writable.
RUN useradd --system --home-dir /var/lib/shardgate --create-home shardgate \
    && mkdir -p /etc/shardgate/vschema \
    && chown -R shardgate:shardgate /etc/shardgate
COPY --from=builder /usr/local/bin/shardgate /usr/local/bin/shardgate
USER shardgate
WORKDIR /etc/shardgate
EXPOSE 15306
ENTRYPOINT ["shardgate"]
CMD ["serve", "--config", "/etc/shardgate/shardgate.toml"]
