# The apk family (Alpine) of the gitlab-ai images; see debian.Dockerfile for how the context is
# made. Alpine's own packages supply what the musl build needs: Claude Code's Alpine guidance
# is `libgcc libstdc++ ripgrep` with USE_BUILTIN_RIPGREP=0, and Node comes from `nodejs`
# because npm's Node builds are glibc-linked. Alpine splits git's Perl commands and server side
# into subpackages (git-perl, git-daemon, …), so `git` is already the client that
# debian.Dockerfile trims to. Same user (`assistant`, uid and gid 10001, home /home/assistant,
# bash), paths, labels and ENTRYPOINT as the apt family.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG PACKAGES

# Trusted before apk runs: Alpine's mirrors are HTTPS.
COPY extra-ca-certificates.crt /usr/local/share/ca-certificates/extra-ca-certificates.crt

RUN set -eux; \
    extra=/usr/local/share/ca-certificates/extra-ca-certificates.crt; \
    if [ -s "$extra" ]; then cat "$extra" >> /etc/ssl/certs/ca-certificates.crt; else rm -f "$extra"; fi; \
    apk add --no-cache $PACKAGES; \
    update-ca-certificates; \
    rm -rf /var/cache/apk/*; \
    git config --system --add safe.directory '*'; \
    addgroup -g 10001 assistant; \
    adduser -D -u 10001 -G assistant -s /bin/bash -h /home/assistant assistant

COPY rootfs/ /

ENV DISABLE_AUTOUPDATER=1 \
    USE_BUILTIN_RIPGREP=0

USER assistant
WORKDIR /home/assistant
ENTRYPOINT ["/usr/local/bin/entrypoint"]
