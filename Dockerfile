# Build: a release binary. Run: a slim image with only the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin rural-collateral

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/rural-collateral rural
COPY --from=build /src/target/release/rural-collateral /usr/local/bin/rural-collateral
USER rural
WORKDIR /var/lib/rural-collateral
ENV APP_BIND=0.0.0.0:8080 APP_DATA_DIR=/var/lib/rural-collateral/data
EXPOSE 8080
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["rural-collateral"]
CMD ["serve"]
