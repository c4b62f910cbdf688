#!/usr/bin/env bash
# make bench-peers: this service's token endpoint beside Keycloak (one
# instance signing RS256, one ES256) and Ory Hydra (RS256) on this machine,
# each first given a cold burst of 50 requests at once (bench/peers says
# how), written to bench/peers.txt. Not part of make test: it takes about
# half an hour and downloads Keycloak.
#   Keycloak 26.7.3: org.keycloak:keycloak-quarkus-dist from Maven Central
#     (fetched by mvn, so its configured mirror applies), run on Java 25.
#   Ory Hydra v2.3.0: the Go module, pinned in bench/peers/hydra/go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
KEYCLOAK_VERSION=26.7.3
JAVA_HOME_25=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
peers=bin/peers
mkdir -p "$peers"

[[ -x $JAVA_HOME_25/bin/java ]] || { echo "Keycloak $KEYCLOAK_VERSION needs Java 25: set JAVA_HOME_25 to a JDK 25 (Temurin)" >&2; exit 1; }
kc=$peers/keycloak-$KEYCLOAK_VERSION
if [[ ! -x $kc/bin/kc.sh ]]; then
  mvn -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$PWD/$peers"
  unzip -q -o "$peers/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$peers"
fi
(cd bench/peers/hydra && go build -tags sqlite -o ../../../$peers/hydra github.com/ory/hydra/v2)
go build -o bin/local ./infra/local

go run ./bench/peers -gateway bin/local -keycloak "$kc" -java-home "$JAVA_HOME_25" -hydra "$peers/hydra" -logs "$peers" "$@" | tee bench/peers.txt
