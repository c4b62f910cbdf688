package wiring

import (
	"context"
	"errors"

	"github.com/modules-service/modules/internal/secretsmanager"
)

// RetirePreviousKey withdraws the previous signing key of the configured
// SigningKeySecret from what the token function loads and from the public
// keys in PublicKeysSecret (infra/admin retire-previous-key; docs/operations.md,
// "A signing key leaked"). It returns the retired version, or "".
func RetirePreviousKey(ctx context.Context, e Env) (string, error) {
	if e.Config.SigningKeySecret == "" || e.Config.PublicKeysSecret == "" {
		return "", errors.New("the signing key secret and the public keys secret are both required")
	}
	r := secretsmanager.Rotation{SM: e.Rotation, PublicKeysSecret: e.Config.PublicKeysSecret}
	return r.RetirePrevious(ctx, e.Config.SigningKeySecret)
}
