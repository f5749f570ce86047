package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/vault"
)

// pesel returns a valid PESEL for a birth date in the 1900s.
func pesel(y, m, d, serial int) string {
	s := fmt.Sprintf("%02d%02d%02d%04d", y%100, m, d, serial)
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, c := range s {
		sum += w[i] * int(c-'0')
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

func send(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func demoTokensOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, DemoTokensFile))
	require.NoError(t, err)
	var tokens map[string]string
	require.NoError(t, json.Unmarshal(raw, &tokens))
	return tokens
}

// grepTree lists the files under dir that contain any of needles.
func grepTree(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err // directories, and the link to the batches' staging in memory
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				hits = append(hits, fmt.Sprintf("%s holds %q", path, n))
			}
		}
		return nil
	}))
	return hits
}

func TestNoPersonalDatumIsReadableOnDiskAndForgetErases(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo")
	tokens := demoTokensOf(t, dir)
	coordinator := tokens["coordinator"]

	name, id, note := "Zbigniewa Niepowtarzalnaqx", pesel(1983, 7, 14, 4821), "tajemnicaqx7 opis sytuacji"
	sieradz := sieradzOf(t, base, coordinator)
	pid, pz := sieradz.id, sieradz
	family := sieradz.openFamily(t, name, id, "ul. Ukrytaqx 9, Sieradz", note)
	mops := sieradz.mops
	status, _ := send(t, http.MethodPost, base+"/api/v1/families/"+family+"/diagnosis", coordinator, map[string]any{
		"area": "housing", "severity": "high", "needs": note, "worker_id": mops, "institution_id": pz.leader, "date": "2021-02-02",
	})
	require.Equal(t, http.StatusOK, status)
	var plan struct {
		Household []struct{ Name, PESEL string }
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+family+"/plan?min_seq=1", coordinator, &plan))
	require.Equal(t, name, plan.Household[0].Name, "the API shows the person to those allowed")
	require.Equal(t, 0, stop(), "stopping writes the projections' checkpoint")

	secrets := []string{name, "Niepowtarzalnaqx", id, "Ukrytaqx", "tajemnicaqx7"}
	assert.Empty(t, grepTree(t, dir, secrets...), "no personal datum may be readable anywhere under the data directory")

	// Forget through the CLI, then the engine shows the family as erased.
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"forget", "--data", dir, "--demo", "--family", family,
		"--reason", "żądanie osoby z 2021-03-01", "--legal-basis", "art. 17 ust. 1 RODO"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "erased")
	code = run(context.Background(), []string{"forget", "--data", dir, "--demo", "--family", family,
		"--reason", "ponownie", "--legal-basis", "art. 17 ust. 1 RODO"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "erased already")

	base2, _ := startServe(t, "--data", dir, "--demo")
	var after struct {
		Erased    bool
		Household []struct {
			Name, PESEL string
			BirthDate   *string `json:"birth_date"`
		}
		Diagnosis struct {
			Areas []struct{ Inputs []struct{ Needs string } }
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, base2+"/api/v1/families/"+family+"/plan", coordinator, &after))
	assert.True(t, after.Erased)
	assert.Equal(t, domain.ErasedText, after.Household[0].Name)
	assert.Equal(t, domain.ErasedText, after.Household[0].PESEL)
	assert.Nil(t, after.Household[0].BirthDate)
	assert.Equal(t, domain.ErasedText, after.Diagnosis.Areas[0].Inputs[0].Needs)
	var pz2 struct {
		FamiliesByStage map[string]int `json:"families_by_stage"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base2+"/api/v1/partnerships/"+pid, coordinator, &pz2))
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	assert.Equal(t, total(pz.familiesByStage)+1, total(pz2.FamiliesByStage), "an erased family still counts")

	// The audit keeps who erased, when and why.
	status, export := send(t, http.MethodGet, base2+"/api/v1/families/"+family+"/export", coordinator, nil)
	require.Equal(t, http.StatusOK, status)
	events := export["events"].([]any)
	last := events[len(events)-1].(map[string]any)
	assert.Equal(t, "FamilyErased", last["type"])
	assert.Equal(t, "żądanie osoby z 2021-03-01", last["reason"])
	assert.True(t, strings.HasPrefix(last["actor"].(map[string]any)["user_id"].(string), "cli:"))

	// Erasing again through the API is a clear no-op.
	status, problem := send(t, http.MethodPost, base2+"/api/v1/families/"+family+"/erase", coordinator, map[string]any{
		"legal_basis": "art. 17 RODO", "date": "2021-03-02", "reason": "ponownie"})
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "family_erased", problem["code"])
}

// partnershipAt is the Sieradz partnership as the API shows it: its id,
// leader, a social worker of the leader, and its families by stage.
type partnershipAt struct {
	base, token     string
	id, leader      string
	mops            string
	familiesByStage map[string]int
}

func sieradzOf(t *testing.T, base, token string) partnershipAt {
	t.Helper()
	var parts struct{ Items []struct{ ID, Name string } }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships", token, &parts))
	p := partnershipAt{base: base, token: token}
	for _, x := range parts.Items {
		if x.Name == "PZK Sieradz" {
			p.id = x.ID
		}
	}
	require.NotEmpty(t, p.id)
	var pz struct {
		LeaderID        string         `json:"leader_id"`
		FamiliesByStage map[string]int `json:"families_by_stage"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships/"+p.id, token, &pz))
	var inst struct{ Workers []struct{ ID string } }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/institutions/"+pz.LeaderID, token, &inst))
	require.NotEmpty(t, inst.Workers)
	p.leader, p.mops, p.familiesByStage = pz.LeaderID, inst.Workers[0].ID, pz.FamiliesByStage
	return p
}

// openFamily opens a family case of one applicant through the API.
func (p partnershipAt) openFamily(t *testing.T, name, pesel, address, reason string) string {
	t.Helper()
	status, opened := send(t, http.MethodPost, p.base+"/api/v1/families", p.token, map[string]any{
		"partnership_id": p.id, "address": address, "opened_on": "2021-02-01",
		"household":   []map[string]any{{"person_id": domain.NewID(), "name": name, "birth_date": "1983-07-14", "pesel": pesel, "relation": "applicant"}},
		"referral":    map[string]any{"institution_id": p.leader, "reason": reason},
		"coordinator": map[string]any{"worker_id": p.mops, "institution_id": p.leader},
	})
	require.Equal(t, http.StatusCreated, status, "%v", opened)
	return opened["id"].(string)
}

func TestRetentionListsAndErasesClosedCases(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo")
	tokens := demoTokensOf(t, dir)
	p := sieradzOf(t, base, tokens["coordinator"])
	family := p.openFamily(t, "Ludwika Retencyjna", "", "ul. Krótka 1, Sieradz", "zgłoszenie")
	status, body := send(t, http.MethodPost, base+"/api/v1/families/"+family+"/close", tokens["coordinator"],
		map[string]any{"date": "2021-02-10", "outcome": "moved_away"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = send(t, http.MethodPut, base+"/api/v1/institutions/"+p.leader+"/retention", tokens["admin"], map[string]any{"days": 30})
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = send(t, http.MethodPut, base+"/api/v1/institutions/"+p.leader+"/retention", tokens["admin"], map[string]any{"days": 0})
	require.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "days", body["field"])
	var due struct {
		Items []struct {
			FamilyID string `json:"family_id"`
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/retention/due?as_of=2021-03-15&min_seq=1", tokens["coordinator"], &due))
	dueIDs := func() []string {
		var ids []string
		for _, d := range due.Items {
			ids = append(ids, d.FamilyID)
		}
		return ids
	}
	assert.Contains(t, dueIDs(), family)
	require.Equal(t, 0, stop())

	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"retention", "--data", dir, "--demo", "--as-of", "2021-03-01"}, &stdout, &stderr), stderr.String())
	assert.NotContains(t, stdout.String(), family, "not yet due on 2021-03-01")
	require.Equal(t, 0, run(context.Background(), []string{"retention", "--data", dir, "--demo", "--as-of", "2021-03-15"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), `{"closed_on":"2021-02-10","due_on":"2021-03-12","family_id":"`+family+`","institution_id":"`+p.leader+`","retention_days":30,"status":"due"}`)
	stdout = syncBuffer{}
	require.Equal(t, 0, run(context.Background(), []string{"retention", "--data", dir, "--demo", "--as-of", "2021-03-15", "--apply"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), `"family_id":"`+family+`","institution_id":"`+p.leader+`","retention_days":30,"status":"erased"`)

	base2, _ := startServe(t, "--data", dir, "--demo")
	var plan struct {
		Erased    bool
		Household []struct{ Name string }
	}
	require.Equal(t, http.StatusOK, getJSON(t, base2+"/api/v1/families/"+family+"/plan", tokens["coordinator"], &plan))
	assert.True(t, plan.Erased)
	assert.Equal(t, domain.ErasedText, plan.Household[0].Name)
	require.Equal(t, http.StatusOK, getJSON(t, base2+"/api/v1/retention/due?as_of=2021-03-15", tokens["coordinator"], &due))
	assert.NotContains(t, dueIDs(), family, "an erased family is no longer due")
}

func TestVerifyOnTheDemo(t *testing.T) {
	dir := t.TempDir()
	_, stop := startServe(t, "--data", dir, "--demo")
	require.Equal(t, 0, stop())
	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"verify", "--data", dir, "--demo", "--quiet"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stderr.String(), "every chain holds")
	var rep struct{ Messages, Events uint64 }
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &rep))
	assert.NotZero(t, rep.Messages)
	// With another master key the chain key differs: every link looks forged.
	_, other := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, other)
	stdout, stderr = syncBuffer{}, syncBuffer{}
	code := run(context.Background(), []string{"verify", "--data", dir, "--quiet"}, &stdout, &stderr)
	assert.NotEqual(t, 0, code)
}
