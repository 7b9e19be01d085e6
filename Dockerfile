# Multi-stage build: compile with the full toolchain, run on a slim Debian with the binary only.
# libsqlite3 and libpq are compiled into the binary (bundled); TLS for PostgreSQL uses libssl.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked && strip target/release/boomerang

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app boomerang
COPY --from=build /src/target/release/boomerang /usr/local/bin/boomerang
USER boomerang
WORKDIR /app
ENV BIND=0.0.0.0:8080 LOG_FORMAT=json
EXPOSE 8080
# SIGTERM finishes in-flight requests (up to 30 s) before exiting.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/boomerang"]
CMD ["serve"]
