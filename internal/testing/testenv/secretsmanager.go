package testenv

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManager is an in-process stand-in of the Secrets Manager calls
// the adapters make (secretsmanager.API and RotationAPI): secrets with
// versions and staging labels, as the service keeps them, so the
// adapter, the rotation and the signing-key loader run in the embedded
// layer too. moto checks the same code over the real wire protocol.
type SecretsManager struct {
	mu      sync.Mutex
	secrets map[string]*fakeSecret
}

type fakeSecret struct {
	tags     []types.Tag
	created  time.Time
	deleted  *time.Time
	versions map[string]string // version ID → value
	stages   map[string]string // staging label → version ID
}

// NewSecretsManager returns an empty stand-in.
func NewSecretsManager() *SecretsManager {
	return &SecretsManager{secrets: map[string]*fakeSecret{}}
}

func notFound(id string) error {
	return &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret: " + id)}
}

func (f *SecretsManager) secret(id *string) (*fakeSecret, error) {
	s, ok := f.secrets[aws.ToString(id)]
	if !ok || s.deleted != nil {
		return nil, notFound(aws.ToString(id))
	}
	return s, nil
}

// put adds a version with value and moves the labels to it; moving
// AWSCURRENT labels the version that had it AWSPREVIOUS, as the service does.
func (s *fakeSecret) put(version, value string, labels []string) {
	s.versions[version] = value
	for _, l := range labels {
		s.move(l, version)
	}
}

func (s *fakeSecret) move(label, version string) {
	if label == "AWSCURRENT" {
		if old, ok := s.stages["AWSCURRENT"]; ok && old != version {
			s.stages["AWSPREVIOUS"] = old
		}
	}
	s.stages[label] = version
}

// CreateSecret implements the call.
func (f *SecretsManager) CreateSecret(_ context.Context, in *sm.CreateSecretInput, _ ...func(*sm.Options)) (*sm.CreateSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Name)
	if _, ok := f.secrets[name]; ok {
		return nil, &types.ResourceExistsException{Message: aws.String("the secret " + name + " already exists")}
	}
	s := &fakeSecret{tags: in.Tags, created: time.Now(), versions: map[string]string{}, stages: map[string]string{}}
	version := aws.ToString(in.ClientRequestToken)
	if version == "" {
		version = rand.Text()
	}
	s.put(version, aws.ToString(in.SecretString), []string{"AWSCURRENT"})
	f.secrets[name] = s
	return &sm.CreateSecretOutput{Name: in.Name, VersionId: aws.String(version)}, nil
}

// DeleteSecret implements the call: scheduled deletion, as a recovery
// window makes it (a second delete is an InvalidRequestException).
func (f *SecretsManager) DeleteSecret(_ context.Context, in *sm.DeleteSecretInput, _ ...func(*sm.Options)) (*sm.DeleteSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.secrets[aws.ToString(in.SecretId)]
	switch {
	case !ok:
		return nil, notFound(aws.ToString(in.SecretId))
	case s.deleted != nil:
		return nil, &types.InvalidRequestException{Message: aws.String("the secret is already scheduled for deletion")}
	}
	now := time.Now()
	s.deleted = &now
	return &sm.DeleteSecretOutput{Name: in.SecretId, DeletionDate: &now}, nil
}

// ListSecrets implements the call with the name filter (a prefix), in one
// page.
func (f *SecretsManager) ListSecrets(_ context.Context, in *sm.ListSecretsInput, _ ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sm.ListSecretsOutput{}
	for name, s := range f.secrets {
		keep := true
		for _, flt := range in.Filters {
			if flt.Key == types.FilterNameStringTypeName && len(flt.Values) > 0 && !strings.HasPrefix(name, flt.Values[0]) {
				keep = false
			}
		}
		if keep {
			out.SecretList = append(out.SecretList, types.SecretListEntry{Name: aws.String(name), Tags: s.tags,
				CreatedDate: aws.Time(s.created), DeletedDate: s.deleted})
		}
	}
	return out, nil
}

// GetSecretValue implements the call: by version ID and/or label, else
// AWSCURRENT.
func (f *SecretsManager) GetSecretValue(_ context.Context, in *sm.GetSecretValueInput, _ ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	version := aws.ToString(in.VersionId)
	if label := aws.ToString(in.VersionStage); label != "" || version == "" {
		if label == "" {
			label = "AWSCURRENT"
		}
		v, ok := s.stages[label]
		if !ok || (version != "" && v != version) {
			return nil, notFound(aws.ToString(in.SecretId) + " at " + label)
		}
		version = v
	}
	value, ok := s.versions[version]
	if !ok {
		return nil, notFound(aws.ToString(in.SecretId) + " version " + version)
	}
	return &sm.GetSecretValueOutput{Name: in.SecretId, VersionId: aws.String(version), SecretString: aws.String(value)}, nil
}

// DescribeSecret implements the call: the versions and their labels.
func (f *SecretsManager) DescribeSecret(_ context.Context, in *sm.DescribeSecretInput, _ ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	stages := map[string][]string{}
	for v := range s.versions {
		stages[v] = nil
	}
	for label, v := range s.stages {
		stages[v] = append(stages[v], label)
	}
	return &sm.DescribeSecretOutput{Name: in.SecretId, VersionIdsToStages: stages}, nil
}

// PutSecretValue implements the call (labels default to AWSCURRENT).
func (f *SecretsManager) PutSecretValue(_ context.Context, in *sm.PutSecretValueInput, _ ...func(*sm.Options)) (*sm.PutSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	version := aws.ToString(in.ClientRequestToken)
	if version == "" {
		version = rand.Text()
	}
	labels := in.VersionStages
	if len(labels) == 0 {
		labels = []string{"AWSCURRENT"}
	}
	s.put(version, aws.ToString(in.SecretString), labels)
	return &sm.PutSecretValueOutput{Name: in.SecretId, VersionId: aws.String(version), VersionStages: labels}, nil
}

// UpdateSecretVersionStage implements the call.
func (f *SecretsManager) UpdateSecretVersionStage(_ context.Context, in *sm.UpdateSecretVersionStageInput, _ ...func(*sm.Options)) (*sm.UpdateSecretVersionStageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	label := aws.ToString(in.VersionStage)
	if to := aws.ToString(in.MoveToVersionId); to != "" {
		s.move(label, to)
	} else if s.stages[label] == aws.ToString(in.RemoveFromVersionId) {
		delete(s.stages, label)
	}
	return &sm.UpdateSecretVersionStageOutput{Name: in.SecretId}, nil
}
