# syntax=docker/dockerfile:1
# coder-dns-doctor container image: a Debian 12 build stage running the project's own dependency
# script and CMake, and a slim Debian 12 runtime stage with only the runtime libraries.
#
#   docker build -t coder-dns-doctor --build-arg REVISION=$(git rev-parse --short=12 HEAD) .
#   docker run --rm coder-dns-doctor diagnose --external-url https://coder.example.com
#
# No Docker engine runs in CI: tests/chart/test_runtime_chroot.sh proves the runtime stage by
# running its RUN instructions in a debootstrap'ed Debian 12 root and the binary there with chroot.

ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Only the dependency script first, so the (slow) package layer is cached across source changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
ARG BUILD_TYPE=Release
ARG REVISION=unknown
# The image's binary links its libraries statically, all but glibc (README "Performance": faster
# start, less memory): a lean libcurl and prometheus-cpp's core built from Debian's own source
# packages by scripts/build-image-deps.sh, Debian's static archives for the rest.
RUN bash scripts/build-image-deps.sh /image-deps \
 && BUILD_DIR=/build BUILD_TYPE=${BUILD_TYPE} JOBS=2 bash scripts/build.sh -DCDD_TESTS=OFF \
      -DCDD_GIT_REVISION=${REVISION} -DCDD_IMAGE_DEPS=/image-deps \
 && strip --strip-unneeded /build/src/coder-dns-doctor-image \
 && /build/src/coder-dns-doctor-image --version

FROM ${DEBIAN_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="coder-dns-doctor" \
      org.opencontainers.image.description="Finds and explains split-horizon DNS drift that disconnects Coder workspace agents in Kubernetes" \
      org.opencontainers.image.source="https://github.com/coder-dns-doctor/coder-dns-doctor" \
      org.opencontainers.image.url="https://github.com/coder-dns-doctor/coder-dns-doctor" \
      org.opencontainers.image.documentation="https://github.com/coder-dns-doctor/coder-dns-doctor/blob/main/docs/deploy.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
# Only CA certificates for HTTPS health checks: the binary needs nothing but the base image's glibc.
# Its OpenSSL, libcurl and c-ares are those of the build stage, so a security update to any of them
# means rebuilding the image (docs/deploy.md). The chroot test installs exactly this list.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed non-root UID/GID (the Helm chart's runAsUser/runAsGroup), no home, no shell.
RUN groupadd --system --gid 10001 coder-dns-doctor \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin coder-dns-doctor
COPY --from=build /build/src/coder-dns-doctor-image /usr/local/bin/coder-dns-doctor
USER 10001:10001
EXPOSE 9816
ENTRYPOINT ["coder-dns-doctor"]
CMD ["serve"]
