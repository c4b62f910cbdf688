package samtemplate

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// RateRule is a rate-based rule of the template's AWS WAF web ACL
// (AWS::WAFv2::WebACL): once an address has sent Limit requests whose URI
// path the scope matches within WindowSeconds, its further ones are blocked.
// The local gateway reads the one form the template uses: IP aggregation,
// scoped by a match of the URI path (exact or prefix), possibly negated.
type RateRule struct {
	Name          string
	Limit         int
	WindowSeconds int
	// Path is what the scope-down statement compares the URI path with;
	// Prefix: as STARTS_WITH, else EXACTLY. Negated: the statement is a
	// NotStatement of that match.
	Path            string
	Prefix, Negated bool
	// Status is the block response's code (WAF's default 403 unless a
	// CustomResponse says otherwise) and RetryAfter its Retry-After header.
	Status     int
	RetryAfter string
}

// Matches tells whether the rule counts a request for path.
func (r RateRule) Matches(path string) bool {
	m := path == r.Path
	if r.Prefix {
		m = strings.HasPrefix(path, r.Path)
	}
	return m != r.Negated
}

type webACLProps struct {
	Rules []struct {
		Name   string `yaml:"Name"`
		Action struct {
			Block *struct {
				CustomResponse struct {
					ResponseCode    int `yaml:"ResponseCode"`
					ResponseHeaders []struct {
						Name  string    `yaml:"Name"`
						Value yaml.Node `yaml:"Value"`
					} `yaml:"ResponseHeaders"`
				} `yaml:"CustomResponse"`
			} `yaml:"Block"`
		} `yaml:"Action"`
		Statement struct {
			RateBasedStatement *struct {
				Limit               yaml.Node `yaml:"Limit"`
				EvaluationWindowSec yaml.Node `yaml:"EvaluationWindowSec"`
				AggregateKeyType    string    `yaml:"AggregateKeyType"`
				ScopeDownStatement  statement `yaml:"ScopeDownStatement"`
			} `yaml:"RateBasedStatement"`
		} `yaml:"Statement"`
	} `yaml:"Rules"`
}

// statement is the part of a WAF statement a scope-down uses here.
type statement struct {
	ByteMatchStatement *struct {
		FieldToMatch struct {
			UriPath *struct{} `yaml:"UriPath"`
		} `yaml:"FieldToMatch"`
		PositionalConstraint string `yaml:"PositionalConstraint"`
		SearchString         string `yaml:"SearchString"`
	} `yaml:"ByteMatchStatement"`
	NotStatement *struct {
		Statement statement `yaml:"Statement"`
	} `yaml:"NotStatement"`
}

// rateRules reads a web ACL's rules; a rule it cannot emulate is an error,
// so that the local gateway never silently differs from the template.
func (t Template) rateRules(props yaml.Node) ([]RateRule, error) {
	var acl webACLProps
	if err := props.Decode(&acl); err != nil {
		return nil, err
	}
	var out []RateRule
	for _, r := range acl.Rules {
		rb := r.Statement.RateBasedStatement
		if rb == nil {
			return nil, fmt.Errorf("rule %s: only rate-based rules are emulated", r.Name)
		}
		if rb.AggregateKeyType != "IP" {
			return nil, fmt.Errorf("rule %s: AggregateKeyType %q, only IP is emulated", r.Name, rb.AggregateKeyType)
		}
		rule := RateRule{Name: r.Name, Status: 403}
		var err1, err2 error
		rule.Limit, err1 = strconv.Atoi(t.scalar(rb.Limit))
		rule.WindowSeconds, err2 = strconv.Atoi(t.scalar(rb.EvaluationWindowSec))
		if err1 != nil || err2 != nil || rule.Limit < 1 || rule.WindowSeconds < 1 {
			return nil, fmt.Errorf("rule %s: Limit %q and EvaluationWindowSec %q must be positive numbers", r.Name, t.scalar(rb.Limit), t.scalar(rb.EvaluationWindowSec))
		}
		s := rb.ScopeDownStatement
		if s.NotStatement != nil {
			rule.Negated, s = true, s.NotStatement.Statement
		}
		bm := s.ByteMatchStatement
		if bm == nil || bm.FieldToMatch.UriPath == nil || (bm.PositionalConstraint != "EXACTLY" && bm.PositionalConstraint != "STARTS_WITH") {
			return nil, fmt.Errorf("rule %s: the scope-down statement must match the URI path EXACTLY or STARTS_WITH, perhaps inside a NotStatement", r.Name)
		}
		rule.Path, rule.Prefix = bm.SearchString, bm.PositionalConstraint == "STARTS_WITH"
		if b := r.Action.Block; b != nil && b.CustomResponse.ResponseCode != 0 {
			rule.Status = b.CustomResponse.ResponseCode
			for _, h := range b.CustomResponse.ResponseHeaders {
				if strings.EqualFold(h.Name, "Retry-After") {
					rule.RetryAfter = t.scalar(h.Value)
				}
			}
		}
		out = append(out, rule)
	}
	return out, nil
}
