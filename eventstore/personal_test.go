package eventstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/vault"
)

func TestPersonalDataIsSealedAndErasable(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	defer keys.Close()
	s.Protect(keys)

	fid, person := domain.NewID(), domain.NewID()
	opened := domain.FamilyCaseOpened{PartnershipID: domain.NewID(), Address: "ul. Tajemnicza 7, Sieradz",
		Household: []domain.Person{{PersonID: person, Name: "Hieronim Unikatowy", BirthDate: domain.NewDate(1980, 1, 2), PESEL: "80010212345", Relation: domain.RelationApplicant}},
		Referral:  domain.ReferralSource{InstitutionID: domain.NewID(), Reason: "zgłoszenie szkoły"}, OpenedOn: domain.NewDate(2020, 1, 5)}
	m := meta()
	m.Reason = "wniosek pani Unikatowej"
	res, err := s.Append(ctx, domain.AggregateFamily, fid, 0, m, opened)
	require.NoError(t, err)

	stream, err := s.JetStream().Stream(ctx, s.StreamName())
	require.NoError(t, err)
	msg, err := stream.GetMsg(ctx, res.Sequence)
	require.NoError(t, err)
	body := string(msg.Data)
	for _, secret := range []string{"Hieronim", "Unikatow", "80010212345", "Tajemnicza", "1980-01-02", "zgłoszenie szkoły"} {
		assert.NotContains(t, body, secret, "stored in clear")
	}
	assert.Contains(t, body, vault.SealedPrefix)
	assert.Contains(t, body, `"relation":"applicant"`, "what is not personal stays readable for evaluation")

	envs, err := s.Load(ctx, domain.AggregateFamily, fid)
	require.NoError(t, err)
	require.Len(t, envs, 1)
	assert.Equal(t, opened, envs[0].Payload, "the engine reads what was written")
	assert.Equal(t, "wniosek pani Unikatowej", envs[0].Reason)

	// Erasure: the person is forgotten, the structure stays.
	erased, err := keys.Erase(ctx, fid)
	require.NoError(t, err)
	require.True(t, erased)
	envs, err = s.Load(ctx, domain.AggregateFamily, fid)
	require.NoError(t, err)
	got := envs[0].Payload.(domain.FamilyCaseOpened)
	assert.Equal(t, domain.ErasedText, got.Household[0].Name)
	assert.Equal(t, domain.ErasedText, got.Household[0].PESEL)
	assert.True(t, got.Household[0].BirthDate.IsZero())
	assert.Equal(t, domain.ErasedText, got.Address)
	assert.Equal(t, domain.ErasedText, envs[0].Reason)
	assert.Equal(t, person, got.Household[0].PersonID)
	assert.Equal(t, domain.RelationApplicant, got.Household[0].Relation)
	assert.Equal(t, opened.OpenedOn, got.OpenedOn)

	// Nothing more can be written for an erased family.
	_, err = s.Append(ctx, domain.AggregateFamily, fid, 1, meta(), domain.DiagnosisCompleted{Date: domain.NewDate(2020, 2, 1), Summary: "x"})
	require.ErrorIs(t, err, vault.ErrErased)

	// Without keys, sealed data reads as erased, never as ciphertext.
	keyless, err := eventstore.Decode(msg.Subject, msg.Sequence, msg.Data)
	require.NoError(t, err)
	assert.Equal(t, domain.ErasedText, keyless[0].Payload.(domain.FamilyCaseOpened).Household[0].Name)
}

func TestTamperedSealedValueIsAClearError(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	defer keys.Close()
	s.Protect(keys)
	fid := domain.NewID()
	res, err := s.Append(ctx, domain.AggregateFamily, fid, 0, meta(), domain.DiagnosisCompleted{Date: domain.NewDate(2020, 2, 1), Summary: "Ściśle tajne"})
	require.NoError(t, err)
	stream, err := s.JetStream().Stream(ctx, s.StreamName())
	require.NoError(t, err)
	msg, err := stream.GetMsg(ctx, res.Sequence)
	require.NoError(t, err)
	i := strings.Index(string(msg.Data), vault.SealedPrefix) + len(vault.SealedPrefix) + 5
	forged := []byte(string(msg.Data))
	if forged[i] == 'A' {
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	_, err = s.Decode(ctx, msg.Subject, msg.Sequence, forged)
	require.ErrorIs(t, err, vault.ErrAuth)
	assert.Contains(t, err.Error(), fid, "the error names the family")
	assert.NotContains(t, err.Error(), "tajne")
}
