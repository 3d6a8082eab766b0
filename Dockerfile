# EggPool in a container: `deno compile` in a build stage, the single binary
# in a slim Debian runtime, running as an unprivileged user with everything it
# keeps (config, .env, database, logs) under the /data volume.
#
#   docker build -t eggpool .
#   mkdir -p ~/eggpool
#   docker run --rm --user "$(id -u):$(id -g)" -v ~/eggpool:/data eggpool init-config
#   $EDITOR ~/eggpool/config.toml   # host = "0.0.0.0" and a local key: the port is published
#   docker run -d --name eggpool --user "$(id -u):$(id -g)" -p 11300:11300 \
#     -v ~/eggpool:/data eggpool
#
# `--user` makes the files in ~/eggpool yours; without it the container runs as
# its own user 10001, which then needs write access to the volume.

ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
# Docker's name for the machine the image is built for (amd64 or arm64);
# scripts/compile.ts maps it to the target triple.
ARG TARGETARCH
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts config.example.toml ./
COPY src ./src
COPY migrations ./migrations
COPY themes ./themes
COPY static ./static
COPY scripts ./scripts
RUN deno task compile --target "${TARGETARCH:-amd64}" --out-dir /out \
  && mv /out/eggpool-*-linux /out/eggpool

FROM debian:bookworm-slim AS runtime
# curl only for the health check below.
RUN apt-get update \
  && apt-get install -y --no-install-recommends curl \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin eggpool \
  && mkdir -p /data && chown eggpool:eggpool /data && chmod 0700 /data
COPY --from=build /out/eggpool /usr/local/bin/eggpool
ENV EGGPOOL_CONFIG=/data/config.toml \
    XDG_DATA_HOME=/data \
    XDG_STATE_HOME=/data/state \
    HOME=/data
USER eggpool
VOLUME ["/data"]
EXPOSE 11300
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:11300/v1/healthz >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/eggpool"]
CMD ["serve"]
