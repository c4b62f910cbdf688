package secretsmanager

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// RetirePrevious withdraws the previous signing key at once, for a key that
// leaked: it takes the AWSPREVIOUS label off its version, so the token
// function's JWKS no longer lists it, and publishes the public keys without
// it, so authorizers refuse its tokens once their key cache (KeyCacheSeconds)
// runs out. A leaked current key is retired by a rotation first (it becomes
// the previous one), then this. It returns the version it retired, or ""
// when there was no previous key (the public keys are published anyway, so
// a run after a partial one completes it).
func (r Rotation) RetirePrevious(ctx context.Context, secretID string) (string, error) {
	d, err := r.SM.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", secretID, err)
	}
	retired := ""
	for id, stages := range d.VersionIdsToStages {
		if !slices.Contains(stages, stagePrevious) {
			continue
		}
		if slices.Contains(stages, stageCurrent) || slices.Contains(stages, stagePending) {
			return "", fmt.Errorf("version %s of %s is previous and current or pending at once: finish the rotation first", id, secretID)
		}
		if _, err := r.SM.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String(secretID),
			VersionStage: aws.String(stagePrevious), RemoveFromVersionId: aws.String(id)}); err != nil {
			return "", fmt.Errorf("retire version %s of %s: %w", id, secretID, err)
		}
		retired = id
	}
	return retired, r.publish(ctx, secretID)
}
