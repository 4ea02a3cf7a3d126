package escape

import (
	"errors"
	"strings"
	"testing"
)

func TestTableMarkdown(t *testing.T) {
	cs := []Case{
		{Name: "allowed-thing", Layer: LayerBaseline},
		{Name: "attack", Layer: LayerNetwork},
		{Name: "other-attack", Layer: LayerKernel},
	}
	tab := newTable(cs, []string{"direct", "box"})
	tab.set("allowed-thing", "direct", outcome{Escaped: true, Detail: "it worked"})
	tab.set("allowed-thing", "box", outcome{Escaped: false, Detail: "refused\nacross lines"})
	tab.set("attack", "direct", outcome{Escaped: true, Detail: "got through"})
	tab.set("attack", "box", outcome{Escaped: false, Detail: "blocked it"})
	tab.set("other-attack", "direct", outcome{Escaped: true})
	tab.set("other-attack", "box", outcome{Err: errors.New("boom"), Detail: "could not run: boom"})

	got := tab.markdown()
	for _, want := range []string{
		"| case | layer | direct | box |\n| --- | --- | --- | --- |\n",
		"| allowed-thing | baseline | works | **refused** |\n",
		"| attack | network | **escaped** | blocked |\n",
		"| other-attack | kernel | **escaped** | **error** |\n",
		"| **attacks blocked** | | 0 of 2 | 1 of 2 |\n",
		"- `allowed-thing` under box: refused — refused across lines\n",
		"- `attack` under box: blocked — blocked it\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestTableShowsCellsNotRun(t *testing.T) {
	tab := newTable([]Case{{Name: "attack", Layer: LayerNetwork}}, []string{"direct"})
	if got := tab.markdown(); !strings.Contains(got, "| attack | network | not run |") {
		t.Errorf("an empty cell is not marked:\n%s", got)
	}
}
