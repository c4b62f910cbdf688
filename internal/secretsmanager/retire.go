package secretsmanager

import (
	"context"
	"fmt"
	"slices"
	"time"

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

// RotateAPI starts a rotation, as the schedule does.
type RotateAPI interface {
	RotateSecret(context.Context, *sm.RotateSecretInput, ...func(*sm.Options)) (*sm.RotateSecretOutput, error)
	DescribeSecret(context.Context, *sm.DescribeSecretInput, ...func(*sm.Options)) (*sm.DescribeSecretOutput, error)
}

// RotateNow asks Secrets Manager to rotate the secret at once (through the
// stack's rotation function) and waits until the new version is
// AWSCURRENT, polling every second until ctx ends. It returns that version.
func RotateNow(ctx context.Context, api RotateAPI, secretID string) (string, error) {
	out, err := api.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String(secretID), RotateImmediately: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("rotate %s: %w", secretID, err)
	}
	version := aws.ToString(out.VersionId)
	for {
		d, err := api.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(secretID)})
		if err != nil {
			return "", fmt.Errorf("describe %s: %w", secretID, err)
		}
		if slices.Contains(d.VersionIdsToStages[version], stageCurrent) {
			return version, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("rotation of %s to version %s did not finish: %w (the RotationFailed alarm and the rotation function's log say why)", secretID, version, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
