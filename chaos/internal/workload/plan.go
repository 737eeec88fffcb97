package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
)

// tokenTTL covers the longest suite run.
const tokenTTL = 3 * time.Hour

// Funding of each user wallet before the workload, in minor units. The
// hot wallet of a hot plan gets more, because every operation draws on it.
const (
	userFunding = 5_000
	hotFunding  = 20_000
)

// Party is a caller of the workload and its USD wallet.
type Party struct {
	Subject  string
	Token    string
	WalletID string
}

// Plan is the callers and operations of one scenario.
type Plan struct {
	Name    string
	Users   []Party
	Payee   Party
	Service Party
	// Funding credits every user wallet before the workload starts.
	Funding []*Op
	// Ops are the workload in the order they are sent.
	Ops []*Op
	// FollowUps are the captures and voids created as holds are placed.
	FollowUps []*Op
	// HotWalletID is the wallet every operation touches in a hot plan.
	HotWalletID string
}

// PlanOptions configure NewPlan.
type PlanOptions struct {
	// Name starts every subject and idempotency key of the plan.
	Name string
	// Seed and Stream select the random sequence of operations.
	Seed, Stream uint64
	Operations   int
	Users        int
	// Hot makes every operation involve the first user's wallet.
	Hot    bool
	Signer *auth.Signer
}

// NewPlan creates the callers' wallets through the gateway and generates
// the operations. The same options give the same operations.
func NewPlan(ctx context.Context, client *Client, opts PlanOptions) (*Plan, error) {
	p := &Plan{Name: opts.Name}
	var err error
	if p.Service, err = party(opts, opts.Name+"-billing", auth.RoleService); err != nil {
		return nil, err
	}
	if p.Payee, err = party(opts, opts.Name+"-payee", ""); err != nil {
		return nil, err
	}
	for i := range opts.Users {
		u, err := party(opts, fmt.Sprintf("%s-user-%d", opts.Name, i), "")
		if err != nil {
			return nil, err
		}
		p.Users = append(p.Users, u)
	}
	for _, party := range append([]*Party{&p.Payee}, p.userPointers()...) {
		if party.WalletID, err = createWallet(ctx, client, party.Token); err != nil {
			return nil, fmt.Errorf("create the wallet of %s: %w", party.Subject, err)
		}
	}
	if opts.Hot {
		p.HotWalletID = p.Users[0].WalletID
	}

	p.addFunding(opts.Hot)
	p.generate(rand.New(rand.NewPCG(opts.Seed, opts.Stream)), opts.Operations, opts.Hot) // #nosec G404 -- a reproducible workload, not a secret
	return p, nil
}

func (p *Plan) userPointers() []*Party {
	out := make([]*Party, len(p.Users))
	for i := range p.Users {
		out[i] = &p.Users[i]
	}
	return out
}

func party(opts PlanOptions, subject, role string) (Party, error) {
	var roles []string
	if role != "" {
		roles = []string{role}
	}
	token, err := opts.Signer.Issue(subject, roles, tokenTTL, time.Now(), nil)
	if err != nil {
		return Party{}, fmt.Errorf("issue a token for %s: %w", subject, err)
	}
	return Party{Subject: subject, Token: token}, nil
}

// createWallet returns the caller's USD wallet, creating it. The call is
// idempotent per owner and currency, so it is retried on any failure.
func createWallet(ctx context.Context, client *Client, token string) (string, error) {
	var last error
	for range 20 {
		var wallet struct {
			ID string `json:"id"`
		}
		last = client.getJSON(ctx, "POST", "/v1/wallets", token, `{"currency":"USD"}`, &wallet)
		if last == nil {
			return wallet.ID, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return "", last
}

func (p *Plan) addFunding(hot bool) {
	for i, u := range p.Users {
		amount := int64(userFunding)
		if hot && i == 0 {
			amount = hotFunding
		}
		p.Funding = append(p.Funding, &Op{
			Index: i, Kind: Credit, Key: fmt.Sprintf("%s-fund-%d", p.Name, i),
			Actor: p.Service.Subject, token: p.Service.Token, WalletID: u.WalletID, Amount: amount,
		})
	}
}

// generate appends n operations. Each one takes the same seven draws from
// rng whatever its kind, so one kind's changes never shift the others.
func (p *Plan) generate(rng *rand.Rand, n int, hot bool) {
	for i := range n {
		kindDraw, fromDraw, toDraw := rng.IntN(100), rng.IntN(len(p.Users)), rng.IntN(len(p.Users)-1)
		amountDraw, choiceDraw, followUpDraw, resendDraw := rng.Int64N(500)+1, rng.IntN(2), rng.Float64(), rng.IntN(100)

		kind, followUp := kindOf(kindDraw, followUpDraw)
		from, to := fromDraw, (fromDraw+1+toDraw)%len(p.Users)
		if hot {
			// Every operation draws on the hot wallet, except that half of
			// the transfers move money into it.
			from, to = 0, 1+toDraw
			if kind == Transfer && choiceDraw == 1 {
				from, to = to, 0
			}
		}
		op := &Op{Index: i, Kind: kind, FollowUp: followUp, Resend: resendDraw < 10, Amount: amountDraw,
			Key:   fmt.Sprintf("%s-%04d-%s", p.Name, i, kind),
			Actor: p.Users[from].Subject, token: p.Users[from].Token, WalletID: p.Users[from].WalletID}
		switch kind {
		case Transfer:
			op.ToWalletID = p.Users[to].WalletID
		case WalletPayment, CardPayment:
			op.ToWalletID = p.Payee.WalletID
		}
		p.Ops = append(p.Ops, op)
	}
}

// kindOf maps a draw of 0 to 99 to an operation kind: 30% transfers, 15%
// debits, 20% holds (half captured, half voided), 15% wallet payments and
// 20% card payments.
func kindOf(draw int, followUpDraw float64) (Kind, Kind) {
	switch {
	case draw < 30:
		return Transfer, ""
	case draw < 45:
		return Debit, ""
	case draw < 65:
		if followUpDraw < 0.5 {
			return PlaceHold, Capture
		}
		return PlaceHold, Void
	case draw < 80:
		return WalletPayment, ""
	}
	return CardPayment, ""
}

// followUp returns the capture or void that ends hold, a placed hold. A
// partial capture takes half the hold, rounded down, when the hold is
// above 1; otherwise the whole hold.
func (p *Plan) followUp(hold *Op) *Op {
	op := &Op{Index: hold.Index, Kind: hold.FollowUp, Key: hold.Key + "-" + string(hold.FollowUp), Parent: hold,
		Actor: hold.Actor, token: hold.token, WalletID: hold.WalletID}
	switch hold.FollowUp {
	case Capture:
		if hold.Index%2 == 0 && hold.Amount > 1 {
			op.Amount = hold.Amount / 2
		}
	case Void:
		// Only services may void.
		op.Actor, op.token = p.Service.Subject, p.Service.Token
	}
	return op
}

// All returns every operation: funding, workload and follow-ups.
func (p *Plan) All() []*Op {
	all := append(append([]*Op{}, p.Funding...), p.Ops...)
	return append(all, p.FollowUps...)
}

// Subjects returns every caller's subject.
func (p *Plan) Subjects() []string {
	out := []string{p.Payee.Subject, p.Service.Subject}
	for _, u := range p.Users {
		out = append(out, u.Subject)
	}
	return out
}

// WalletIDs returns every wallet of the plan.
func (p *Plan) WalletIDs() []string {
	out := []string{p.Payee.WalletID}
	for _, u := range p.Users {
		out = append(out, u.WalletID)
	}
	return out
}
