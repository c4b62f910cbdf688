// Package federation accepts a workload platform's own tokens as client
// assertions (RFC 7523 §2.2): GitHub Actions, a Kubernetes cluster or
// another OpenID provider signs a token for the workload, and a module
// that holds a matching federated credential ({issuer, subject,
// audience}) trusts it instead of a secret or a key of its own. The
// issuer's keys are found through its OpenID discovery document (Keys).
package federation

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/modules-service/modules/internal/derrors"
)

// MaxCredentials is how many federated credentials a module may hold:
// a few workflows, branches or clusters, few enough to read at a glance.
const MaxCredentials = 5

// MaxValue bounds a subject and an audience (GitHub's longest subjects,
// repo:<owner>/<repo>:environment:<name>, stay well below it).
const MaxValue = 255

// Credential is one workload a module trusts: a token from Issuer whose
// sub is Subject and whose aud is Audience, all compared exactly.
type Credential struct {
	Issuer   string `json:"issuer"`
	Subject  string `json:"subject"`
	Audience string `json:"audience"`
}

// Check validates a module's federated credentials; allowed says whether
// an issuer may be used (the operator's list, see Allowed). Each fault
// names its entry ("federatedCredentials[1].issuer").
func Check(creds []Credential, allowed func(issuer string) bool) []derrors.Field {
	if len(creds) > MaxCredentials {
		return []derrors.Field{{Name: "federatedCredentials", Code: derrors.CodeTooMany,
			Reason: fmt.Sprintf("holds %d credentials, at most %d are allowed", len(creds), MaxCredentials)}}
	}
	var bad []derrors.Field
	seen := map[Credential]int{}
	for i, c := range creds {
		name := fmt.Sprintf("federatedCredentials[%d]", i)
		if code, reason := CheckIssuer(c.Issuer); reason != "" {
			bad = append(bad, derrors.Field{Name: name + ".issuer", Code: code, Reason: reason})
		} else if !allowed(c.Issuer) {
			reason := "is not an issuer this deployment trusts; its operator lists those (the FederatedIssuers parameter)"
			bad = append(bad, derrors.Field{Name: name + ".issuer", Code: derrors.CodeInvalidValue, Reason: reason})
		}
		for _, f := range []struct{ member, v string }{{"subject", c.Subject}, {"audience", c.Audience}} {
			switch {
			case strings.TrimSpace(f.v) == "":
				bad = append(bad, derrors.Field{Name: name + "." + f.member, Code: derrors.CodeRequired, Reason: "is required: the token's " + claimOf(f.member) + ", compared exactly"})
			case len(f.v) > MaxValue:
				bad = append(bad, derrors.Field{Name: name + "." + f.member, Code: derrors.CodeTooLong, Reason: fmt.Sprintf("is %d bytes long, at most %d are allowed", len(f.v), MaxValue)})
			}
		}
		if j, dup := seen[c]; dup {
			bad = append(bad, derrors.Field{Name: name, Code: derrors.CodeDuplicate, Reason: fmt.Sprintf("is the same as federatedCredentials[%d]", j)})
		}
		seen[c] = i
	}
	return bad
}

func claimOf(member string) string {
	if member == "subject" {
		return "sub"
	}
	return "aud"
}

// CheckIssuer says what is wrong with an issuer identifier, or nothing:
// an https URL (http only on a loopback host, for tests) with no query,
// fragment or user information (OpenID Connect Discovery §2).
func CheckIssuer(issuer string) (derrors.Code, string) {
	u, err := url.Parse(issuer)
	switch {
	case issuer == "":
		return derrors.CodeRequired, "is required: the issuer's identifier, the token's iss"
	case err != nil || !u.IsAbs() || u.Host == "":
		return derrors.CodeInvalidURL, "must be an absolute URL, the token's iss (e.g. https://token.actions.githubusercontent.com)"
	case u.User != nil:
		return derrors.CodeUserInfo, "must not hold user information"
	case u.Fragment != "" || strings.Contains(issuer, "#"):
		return derrors.CodeFragment, "must not have a fragment"
	case u.RawQuery != "" || strings.Contains(issuer, "?"):
		return derrors.CodeInvalidURL, "must not have a query"
	case u.Scheme == "https":
		return "", ""
	case u.Scheme == "http" && Loopback(u.Hostname()):
		return "", ""
	}
	return derrors.CodeNotHTTPS, "must use https (http only on a loopback host)"
}

// Loopback reports whether host is a loopback name or address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Allowed reports whether issuer is on the operator's list, compared
// exactly (a trailing slash makes another issuer, as it does in iss).
func Allowed(allowed []string, issuer string) bool {
	for _, a := range allowed {
		if a == issuer {
			return true
		}
	}
	return false
}
