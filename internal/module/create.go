package module

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/federation"
)

// CreateInput is what a manager sends to create a module.
type CreateInput struct {
	Name         string     `json:"name"`
	DisplayName  string     `json:"displayName"`
	ClientSecret string     `json:"clientSecret"`
	UserLogin    *UserLogin `json:"userLogin,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
	// TokenEndpointAuthMethods and JWKS: see Module; left out, the
	// secret's methods and no keys.
	TokenEndpointAuthMethods []string        `json:"tokenEndpointAuthMethods,omitempty"`
	JWKS                     json.RawMessage `json:"jwks,omitempty"`
	// FederatedCredentials: see Module; left out, none.
	FederatedCredentials []federation.Credential `json:"federatedCredentials,omitempty"`
	// DPoPBoundAccessTokens: see Module; false when left out.
	DPoPBoundAccessTokens bool `json:"dpopBoundAccessTokens,omitempty"`
	// ClientID, when set, is used instead of a generated one. Only the
	// operator's bootstrap of a tenant's first manager sets it; the API
	// cannot (it is not a JSON field).
	ClientID string `json:"-"`
}

// IdempotencyTTL is how long a create's Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// CheckClientID reports whether id can be a client ID: a generated one or
// one an operator chose for a bootstrap manager. The token endpoint uses it
// to refuse, before any I/O, what cannot be a client.
func CheckClientID(id string) error {
	if f := checkClientID(id); f != nil {
		return derrors.Invalid(*f)
	}
	return nil
}

func checkClientID(id string) *derrors.Field {
	if !clientIDPattern.MatchString(id) {
		return &derrors.Field{Name: "clientId", Code: derrors.CodeInvalidFormat, Reason: "must be 8 to 64 letters, digits, '.', '_' or '-'"}
	}
	return nil
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// minIdempotencyKey is the shortest key that fingerprints may be taken with.
const minIdempotencyKey = 32

// Create makes a module from in. With a non-empty idemKey, a retry with the
// same key and body returns the module the first request made (replayed is
// true) and creates nothing; the same key with another body is refused.
//
// Order of writes, so that no crash point leaves a module without its hash or
// a name blocked forever: a pending record first (Reap finds the hash by it),
// then the hash goes into the secret store, then one DynamoDB transaction
// writes module, name guards and client pointer and removes the pending
// record, unless Reap has claimed it (then nothing is written). If the
// transaction certainly failed the hash is deleted again; if its outcome is
// unknown (a timeout or server error after sending), the module is read
// back: there, the create succeeded; not there (perhaps not yet), the hash
// is left for Reap, which deletes only hashes whose module does not exist
// after ReapGrace, and the answer is 503 so that a retry with the same
// Idempotency-Key settles it. If the process dies in between, the hash is an
// orphan that Reap removes. A module is never visible before its hash exists.
func (s *Service) Create(ctx context.Context, tenantID string, in CreateInput, idemKey string) (c Credentials, replayed bool, err error) {
	if err := CheckTenantID(tenantID); err != nil {
		return Credentials{}, false, err
	}
	m, err := s.newModule(tenantID, in)
	if err != nil {
		return Credentials{}, false, s.alsoTaken(ctx, m, err)
	}
	if idemKey != "" {
		if len(idemKey) > MaxIdempotencyKey {
			return Credentials{}, false, derrors.Invalid(derrors.Field{Name: "Idempotency-Key", Code: derrors.CodeTooLong, Reason: fmt.Sprintf("must be at most %d characters", MaxIdempotencyKey)})
		}
		if len(s.IdempotencyKey) < minIdempotencyKey { // an unkeyed fingerprint would verify secrets
			return Credentials{}, false, errors.New("idempotent create without an idempotency key of at least 32 bytes configured")
		}
		if c, found, err := s.replay(ctx, tenantID, idemKey, in); found || err != nil {
			return c, found, err
		}
	}

	hash, err := s.Hasher.Hash(in.ClientSecret)
	if err != nil {
		return Credentials{}, false, err
	}
	// Recorded before the hash exists, so that Reap finds the hash
	// whatever happens next without listing every secret.
	if err := s.Pending.AddPending(ctx, PendingOf(m, m.CreatedAt)); err != nil {
		return Credentials{}, false, fmt.Errorf("record pending hash of module %s: %w", m.ID, err)
	}
	tags := map[string]string{TagTenant: tenantID, TagModule: m.ID}
	if err := s.Secrets.Put(ctx, m.SecretName, hash, tags); err != nil {
		return Credentials{}, false, fmt.Errorf("store secret hash of module %s: %w", m.ID, err)
	}
	var idem *IdempotencyRecord
	if idemKey != "" {
		idem = &IdempotencyRecord{TenantID: tenantID, Key: idemKey, ModuleID: m.ID, Fingerprint: s.fingerprint(in), ExpiresAt: m.CreatedAt.Add(IdempotencyTTL)}
	}
	if err := s.Writes.Create(ctx, m, idem, s.event(ctx, audit.ModuleCreated, Module{}, m)); err != nil {
		if errors.Is(err, ErrOutcomeUnknown) {
			got, rerr := s.readBack(ctx, m.TenantID, m.ID, func(_ Module, found bool) bool { return found })
			if rerr != nil {
				s.log().ErrorContext(ctx, "create outcome unknown: hash left for the reaper", "module", m.ID, "tenant", tenantID, "error", err.Error())
				return Credentials{}, false, rerr
			}
			return Credentials{Module: got, ClientSecret: in.ClientSecret}, false, nil
		}
		s.forgetSecret(ctx, m)
		if errors.Is(err, derrors.ErrConflict) {
			return Credentials{}, false, s.taken(ctx, m, err)
		}
		if errors.Is(err, ErrPendingReaped) {
			return Credentials{}, false, derrors.New(derrors.ErrUnavailable, "the create took too long and was undone; retry")
		}
		if errors.Is(err, ErrIdempotencyKeyTaken) {
			c, found, rerr := s.replay(ctx, tenantID, idemKey, in)
			if !found && rerr == nil {
				rerr = fmt.Errorf("replay idempotency key: %w", err)
			}
			return c, found, rerr
		}
		return Credentials{}, false, fmt.Errorf("create module %s: %w", m.ID, err)
	}
	return Credentials{Module: m, ClientSecret: in.ClientSecret}, false, nil
}

// Validate runs every rule of Create, uniqueness against the tenant's
// current modules included, and writes nothing: no module, no hash, no
// secret, and no argon2id run. It returns the module as Create would make
// it, without the ID and client ID Create would generate. A portal calls
// it at each step of its wizard; Create checks everything again.
func (s *Service) Validate(ctx context.Context, tenantID string, in CreateInput) (Module, error) {
	if err := CheckTenantID(tenantID); err != nil {
		return Module{}, err
	}
	m, err := s.newModule(tenantID, in)
	if err != nil {
		return Module{}, s.alsoTaken(ctx, m, err)
	}
	if err := s.taken(ctx, m, nil); err != nil {
		return Module{}, err
	}
	m.ID, m.ClientID, m.SecretName = "", "", ""
	return m, nil
}

// alsoTaken adds to invalid, the faults of a module's rules, the names
// of m that another module holds, when both names pass their own rules:
// every fault at once, so that a form hears of a taken name beside a weak
// secret in one 400 (the same from Validate and Create).
func (s *Service) alsoTaken(ctx context.Context, m Module, invalid error) error {
	de, ok := errors.AsType[*derrors.Error](invalid)
	if !ok || slices.ContainsFunc(de.Fields, func(f derrors.Field) bool { return f.Name == "name" || f.Name == "displayName" }) {
		return invalid
	}
	if c, ok := errors.AsType[*derrors.Error](s.taken(ctx, m, nil)); ok && c.Kind == derrors.ErrConflict {
		return derrors.Invalid(append(slices.Clip(de.Fields), c.Fields...)...)
	}
	return invalid // a name check that failed to run leaves the rules' answer
}

// taken returns a conflict naming every name of m that another module of
// its tenant holds now, or nil. conflict is the store's conflict of a
// write, if any: DynamoDB may report only the first condition that failed,
// and a form wants to hear of both names at once.
func (s *Service) taken(ctx context.Context, m Module, conflict error) error {
	name, display, err := s.Writes.Taken(ctx, m.TenantID, m.NameKey, m.DisplayKey)
	if err != nil {
		if conflict != nil {
			return conflict
		}
		return fmt.Errorf("check names: %w", err)
	}
	var fields []derrors.Field
	if name {
		fields = append(fields, NameTaken(m.Name))
	}
	if display {
		fields = append(fields, DisplayNameTaken(m.DisplayName))
	}
	switch {
	case len(fields) > 0:
		return derrors.Conflict(fields...)
	case conflict != nil: // freed again meanwhile; the write's own answer stands
		return conflict
	}
	return nil
}

// NameTaken is the conflict of a name that looks the same as another's.
func NameTaken(name string) derrors.Field {
	return derrors.Field{Name: "name", Code: derrors.CodeTaken, Reason: fmt.Sprintf("%q looks the same as the name of another module of this tenant (names are compared as a person sees them: ignoring case, width, spacing and look-alike letters)", name)}
}

// DisplayNameTaken is the conflict of a display name that looks the same
// as another's.
func DisplayNameTaken(name string) derrors.Field {
	return derrors.Field{Name: "displayName", Code: derrors.CodeTaken, Reason: fmt.Sprintf("%q looks the same as the display name of another module of this tenant (display names are compared as a person sees them: ignoring case, width, spacing and look-alike letters)", name)}
}

// newModule builds the module of a create and checks every rule that needs
// no storage, reporting every field at fault at once: a missing field is
// "required", and the others are still checked.
func (s *Service) newModule(tenantID string, in CreateInput) (Module, error) {
	missing := map[string]bool{}
	var bad []derrors.Field
	for _, f := range []struct{ name, value string }{{"name", in.Name}, {"displayName", in.DisplayName}, {"clientSecret", in.ClientSecret}} {
		if strings.TrimSpace(f.value) == "" {
			missing[f.name] = true
			bad = append(bad, derrors.Field{Name: f.name, Code: derrors.CodeRequired, Reason: "is required"})
		}
	}
	now := s.now()
	m := Module{
		ID:                       newModuleID(now),
		TenantID:                 tenantID,
		ClientID:                 newClientID(),
		Name:                     in.Name,
		Scopes:                   in.Scopes,
		Enabled:                  true,
		TokenEndpointAuthMethods: in.TokenEndpointAuthMethods,
		JWKS:                     in.JWKS,
		FederatedCredentials:     in.FederatedCredentials,
		DPoPBoundAccessTokens:    in.DPoPBoundAccessTokens,
		CreatedAt:                now,
		UpdatedAt:                now,
		Version:                  1,
	}
	m.DisplayName = in.DisplayName
	if in.UserLogin != nil {
		m.UserLogin = *in.UserLogin
	}
	m.normalize()
	if in.ClientID != "" {
		if f := checkClientID(in.ClientID); f != nil {
			bad = append(bad, *f)
		}
		m.ClientID = in.ClientID
	}
	m.SecretName = s.SecretName(tenantID, m.ClientID)
	if de, ok := errors.AsType[*derrors.Error](m.Check()); ok {
		for _, f := range de.Fields {
			if !missing[f.Name] {
				bad = append(bad, f)
			}
		}
	}
	if de, ok := errors.AsType[*derrors.Error](s.untrustedIssuers(m.FederatedCredentials, nil)); ok {
		bad = append(bad, de.Fields...)
	}
	if !missing["clientSecret"] {
		if f := checkSecret(in.ClientSecret, m.Name, m.DisplayName); f != nil {
			bad = append(bad, *f)
		}
	}
	if len(bad) > 0 {
		return m, derrors.Invalid(bad...)
	}
	return m, nil
}

// canonical is the request as it is compared across retries. It holds the
// secret, so it is only ever fed to a keyed hash.
func canonical(in CreateInput) string {
	in.Name, in.DisplayName = clean(in.Name), clean(in.DisplayName)
	b, _ := json.Marshal(in) // plain strings and slices cannot fail
	return string(b)
}

// fingerprint tells a retried create from a different request without
// keeping the secret: HMAC-SHA-256 of the normalised request under
// IdempotencyKey, a key only the create function can read. Without that
// key nothing in the record can be checked against a guessed secret, so
// the table (and its backups) hold no verifier of any secret.
func (s *Service) fingerprint(in CreateInput) string {
	m := hmac.New(sha256.New, s.IdempotencyKey)
	m.Write([]byte(canonical(in)))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// sameRequest reports whether in is the request a record's fingerprint was
// taken of. Records written before the keyed fingerprint hold an argon2id
// hash of the request; they keep working until they expire (24 h after
// the upgrade; then this branch can go).
func (s *Service) sameRequest(in CreateInput, fingerprint string) (bool, error) {
	if strings.HasPrefix(fingerprint, "$argon2id$") {
		return s.Hasher.Verify(canonical(in), fingerprint)
	}
	return hmac.Equal([]byte(fingerprint), []byte(s.fingerprint(in))), nil
}

// IdempotencyStore reads the records that let a create be retried.
// Writer.Create writes them, in the create's own transaction.
type IdempotencyStore interface {
	// Idempotency returns the record of an idempotency key, or
	// derrors.ErrNotFound.
	Idempotency(ctx context.Context, tenantID, key string) (IdempotencyRecord, error)
}

// replay answers a retried create from its idempotency record.
func (s *Service) replay(ctx context.Context, tenantID, key string, in CreateInput) (Credentials, bool, error) {
	rec, err := s.Idempotency.Idempotency(ctx, tenantID, key)
	if errors.Is(err, derrors.ErrNotFound) {
		return Credentials{}, false, nil
	}
	if err != nil {
		return Credentials{}, false, fmt.Errorf("read idempotency key: %w", err)
	}
	same, err := s.sameRequest(in, rec.Fingerprint)
	if err != nil {
		return Credentials{}, false, fmt.Errorf("compare idempotent request: %w", err)
	}
	if !same {
		return Credentials{}, false, derrors.New(derrors.ErrUnprocessable,
			"this Idempotency-Key was already used with a different request body; use a new key for a new module")
	}
	m, err := s.Modules.Get(ctx, tenantID, rec.ModuleID)
	if errors.Is(err, derrors.ErrNotFound) {
		return Credentials{}, false, derrors.New(derrors.ErrConflict,
			"the module created with this Idempotency-Key has since been deleted; use a new key to create it again")
	}
	if err != nil {
		return Credentials{}, false, fmt.Errorf("get replayed module %s: %w", rec.ModuleID, err)
	}
	// The body is the same as the first one, secret included, so handing the
	// secret back reveals nothing the caller did not just send.
	return Credentials{Module: m, ClientSecret: in.ClientSecret}, true, nil
}

// forgetSecret undoes Put after a failed transaction. It runs even when the
// request was cancelled; if it fails too, Reap removes the orphan later.
func (s *Service) forgetSecret(ctx context.Context, m Module) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Secrets.Delete(ctx, m.SecretName); err != nil {
		s.log().ErrorContext(ctx, "compensation failed: orphan secret hash left for the reaper",
			"module", m.ID, "tenant", m.TenantID, "error", err.Error())
	}
}
