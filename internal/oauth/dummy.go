package oauth

// DummyHash is an argon2id hash, with the production (OWASP) parameters,
// of a random secret that was thrown away. The token endpoint verifies
// against it when a client is unknown or disabled, so that every failure
// costs one argon2id run. Constant, so that it costs nothing at cold start;
// TestDummyHashMatchesProductionParameters keeps its parameters in step.
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$uWfaK8bp3MTQpvLNAOZe3w$6yTJnZGpqxPXL+1yDn/xjuqmxR7jKv6B4/mNqvqTGcc"
