package module

import (
	"errors"
	"slices"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/federation"
)

// untrustedIssuers are the faults of creds whose issuer is not on the
// operator's list (Service.FederatedIssuers). A credential the module
// already held (kept) is not refused when the operator has since dropped
// its issuer: the token endpoint refuses its tokens anyway, and the
// module's other fields stay editable. nil when every issuer is trusted.
func (s *Service) untrustedIssuers(creds, kept []federation.Credential) error {
	allowed := func(issuer string) bool { return federation.Allowed(s.FederatedIssuers, issuer) }
	var bad []derrors.Field
	for _, f := range federation.Check(creds, allowed) {
		i := fieldIndex(f.Name)
		if f.Code == derrors.CodeInvalidValue && strings.HasSuffix(f.Name, ".issuer") && i >= 0 && !slices.Contains(kept, creds[i]) {
			bad = append(bad, f)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return derrors.Invalid(bad...)
}

// fieldIndex is the n of "federatedCredentials[n]…", or -1.
func fieldIndex(name string) int {
	rest, ok := strings.CutPrefix(name, "federatedCredentials[")
	if !ok {
		return -1
	}
	n := 0
	for _, r := range rest {
		if r < '0' || r > '9' {
			return n
		}
		n = n*10 + int(r-'0')
	}
	return -1
}

// patchFederated reads a replacement list of federated credentials,
// strictly: exact member names, none repeated or unknown.
func patchFederated(dst *[]federation.Credential, raw []byte) []derrors.Field {
	var creds []federation.Credential
	err := jsonv2.Unmarshal(raw, &creds, jsonv2.RejectUnknownMembers(true))
	if syn, ok := errors.AsType[*jsontext.SyntacticError](err); ok && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
		return []derrors.Field{{Name: "federatedCredentials", Code: derrors.CodeDuplicateMember, Reason: "an entry has a member more than once; send each member once"}}
	}
	if err != nil || creds == nil {
		return []derrors.Field{{Name: "federatedCredentials", Code: derrors.CodeWrongType, Reason: `must be an array of {"issuer", "subject", "audience"}, or null to remove them all`}}
	}
	*dst = creds
	return nil
}

// federatedSummary is what the audit trail keeps of federated
// credentials: each as "issuer subject audience" (none is a secret).
func federatedSummary(creds []federation.Credential) []string {
	out := make([]string, len(creds))
	for i, c := range creds {
		out[i] = c.Issuer + " " + c.Subject + " " + c.Audience
	}
	return out
}
