# The slim `entrypoint` image: only what the `entrypoint` binary needs to run as a GitLab CI job
# image (the acknowledgement job, the relay's `serve`, `setup`, `doctor`), a few MB where the
# assistant images weigh 200+.
#
# Built by `cargo xtask build-images` with the classic builder from a context the xtask
# assembles: this file, `extra-ca-certificates.crt` (possibly empty, the same input the assistant
# images take) and `rootfs/usr/local/bin/entrypoint`, the host's glibc release build that the
# Debian-family images carry too. The first stage runs on the same pinned Debian-family base as
# those images and gathers, under /slim, exactly what the final `FROM scratch` stage holds:
# - the binary, stripped of its symbol table (only a debugger reads it);
# - its ELF interpreter and the shared libraries `ldd` resolves for it, at the paths it resolved
#   them to. glibc 2.34 and later carry the `files` and `dns` name services inside libc.so.6, so
#   host names resolve without any libnss_* module; /etc/nsswitch.conf says to use both;
# - Debian's CA bundle with the extra certificates appended (reqwest reads the system store);
# - busybox-static and a link per applet, because GitLab Runner's Docker executor feeds the job
#   script to `sh` (https://docs.gitlab.com/runner/shells/#sh): no git, no assistant CLI;
# - /etc/passwd and /etc/group naming root and the image's user, and a world-writable /tmp;
# - /usr/share/gitlab-ai/packages: the distribution's id, then `package<TAB>version` of every
#   Debian package a gathered file comes from (the libraries' owners per `dpkg -S`, busybox-static,
#   ca-certificates): `cargo xtask publish` reads it into the image's SBOM, since `scratch` keeps
#   no package database.
# Packages come from images.toml (the build arg PACKAGES); nothing here is pinned.
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS gather
# Marks the gathering stage's image, which the classic builder keeps untagged after the build:
# `build-images` removes it (300+ MB per build, never reused: an unchanged context is not
# rebuilt at all).
LABEL gitlab-ai.build-stage=entrypoint-gather

ARG PACKAGES

COPY extra-ca-certificates.crt /usr/local/share/ca-certificates/extra-ca-certificates.crt
COPY rootfs/ /slim/

RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    extra=/usr/local/share/ca-certificates/extra-ca-certificates.crt; \
    if [ -s "$extra" ]; then mkdir -p /etc/ssl/certs; cat "$extra" >> /etc/ssl/certs/ca-certificates.crt; else rm -f "$extra"; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends $PACKAGES; \
    update-ca-certificates; \
    strip --strip-all /slim/usr/local/bin/entrypoint; \
    for lib in $(ldd /slim/usr/local/bin/entrypoint | grep -o '/[^ ]*'); do \
        mkdir -p "/slim$(dirname "$lib")"; cp -L "$lib" "/slim$lib"; \
    done; \
    mkdir -p /slim/bin /slim/etc/ssl/certs /slim/tmp /slim/home/entrypoint; \
    cp /etc/ssl/certs/ca-certificates.crt /slim/etc/ssl/certs/ca-certificates.crt; \
    cp /bin/busybox /slim/bin/busybox; \
    for applet in $(/slim/bin/busybox --list); do \
        [ -e "/slim/bin/$applet" ] || ln -s busybox "/slim/bin/$applet"; \
    done; \
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'entrypoint:x:10001:10001:entrypoint:/home/entrypoint:/bin/sh' > /slim/etc/passwd; \
    printf '%s\n' 'root:x:0:' 'entrypoint:x:10001:' > /slim/etc/group; \
    printf '%s\n' 'hosts: files dns' > /slim/etc/nsswitch.conf; \
    owners="busybox-static ca-certificates"; \
    for lib in $(ldd /slim/usr/local/bin/entrypoint | grep -o '/[^ ]*'); do \
        dpkg -S "$lib" > /tmp/owner; owners="$owners $(cut -d: -f1 /tmp/owner)"; \
    done; \
    mkdir -p /slim/usr/share/gitlab-ai; \
    { . /etc/os-release; echo "$ID"; dpkg-query -W -f '${Package}\t${Version}\n' $(printf '%s\n' $owners | sort -u); } > /slim/usr/share/gitlab-ai/packages; \
    chown 10001:10001 /slim/home/entrypoint; \
    chmod 1777 /slim/tmp

FROM scratch
COPY --from=gather /slim/ /
ENV PATH=/usr/local/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER entrypoint
WORKDIR /home/entrypoint
ENTRYPOINT ["/usr/local/bin/entrypoint"]
