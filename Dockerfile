# Fathom's container image: a release build on the pinned toolchain, dependencies cooked in a layer of
# their own (cargo-chef) so that a change to Fathom's code rebuilds only Fathom, and a distroless
# runtime (glibc, CA certificates, no shell) running as a non-root user with a read-only root file
# system: everything Fathom writes is under /data.
#
#   docker build -t fathom .
#   docker run -p 8080:8080 -v fathom-data:/data fathom serve --demo
#
# No Docker engine runs on the development machine: docs/operations.md shows how each stage's
# commands were run there, and .ci/run lints this file with hadolint.

FROM rust:1.95.0-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --package fathom
COPY . .
RUN cargo build --release --locked --package fathom \
    && install -D target/release/fathom /out/fathom \
    && install -d /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/fathom /usr/local/bin/fathom
COPY --from=builder --chown=65532:65532 /out/data /data
ENV FATHOM_LISTEN=0.0.0.0:8080 \
    FATHOM_DATA_DIR=/data \
    FATHOM_LOG_FORMAT=json
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["/usr/local/bin/fathom", "health"]
ENTRYPOINT ["/usr/local/bin/fathom"]
CMD ["serve"]
