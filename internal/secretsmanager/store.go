// Package secretsmanager keeps secret hashes in AWS Secrets Manager, one
// secret per module.
package secretsmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// API is the part of the Secrets Manager client the store calls.
type API interface {
	CreateSecret(context.Context, *sm.CreateSecretInput, ...func(*sm.Options)) (*sm.CreateSecretOutput, error)
	DeleteSecret(context.Context, *sm.DeleteSecretInput, ...func(*sm.Options)) (*sm.DeleteSecretOutput, error)
	ListSecrets(context.Context, *sm.ListSecretsInput, ...func(*sm.Options)) (*sm.ListSecretsOutput, error)
	GetSecretValue(context.Context, *sm.GetSecretValueInput, ...func(*sm.Options)) (*sm.GetSecretValueOutput, error)
}

// RecoveryDays is how long a deleted module's hash can still be restored
// by an operator (the minimum Secrets Manager allows is 7).
const RecoveryDays = 7

// Store implements module.SecretStore.
type Store struct {
	SM API
}

var _ module.SecretStore = (*Store)(nil)

// Put implements module.SecretStore.
func (s *Store) Put(ctx context.Context, name, value string, tags map[string]string) error {
	in := &sm.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
		Description:  aws.String("argon2id hash of a module's client secret"),
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := s.SM.CreateSecret(ctx, in)
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		return fmt.Errorf("create secret %s: %w", name, module.ErrSecretExists)
	}
	if err != nil {
		return fmt.Errorf("create secret %s: %w", name, err)
	}
	return nil
}

// Delete implements module.SecretStore.
func (s *Store) Delete(ctx context.Context, name string) error {
	_, err := s.SM.DeleteSecret(ctx, &sm.DeleteSecretInput{
		SecretId:             aws.String(name),
		RecoveryWindowInDays: aws.Int64(RecoveryDays),
	})
	var missing *types.ResourceNotFoundException
	var invalid *types.InvalidRequestException // already scheduled for deletion
	if err == nil || errors.As(err, &missing) || errors.As(err, &invalid) {
		return nil
	}
	return fmt.Errorf("delete secret %s: %w", name, err)
}

// List implements module.SecretStore.
func (s *Store) List(ctx context.Context, prefix string) ([]module.StoredSecret, error) {
	in := &sm.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{prefix}}}}
	var all []module.StoredSecret
	p := sm.NewListSecretsPaginator(s.SM, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list secrets %s: %w", prefix, err)
		}
		for _, e := range out.SecretList {
			if e.DeletedDate != nil {
				continue
			}
			sec := module.StoredSecret{Name: aws.ToString(e.Name), CreatedAt: aws.ToTime(e.CreatedDate), Tags: map[string]string{}}
			for _, t := range e.Tags {
				sec.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			all = append(all, sec)
		}
	}
	return all, nil
}

// Get returns the value of a secret, or derrors.ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (string, error) {
	out, err := s.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(name)})
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return "", derrors.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", name, err)
	}
	return aws.ToString(out.SecretString), nil
}
