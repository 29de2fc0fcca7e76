"""CoNLL-2003 (NER, IOB1 -> IOB2), UD English-EWT (UPOS) and CoNLL-2000 (Penn POS) loaders: verified counts, conversions,
quirks; the Penn-to-UPOS table."""

import gzip
import hashlib
import http.server
import os
import threading

import pytest

from zoo.data import conll2000, conll2003, ptb_upos, ud_ewt

# From the datasets' SOURCE.md (equal to the official figures).
CONLL_COUNTS = {  # split: (sentences, tokens, {entity type: entities})
    "train": (14_041, 203_621, {"PER": 6_600, "LOC": 7_140, "ORG": 6_321, "MISC": 3_438}),
    "validation": (3_250, 51_362, {"PER": 1_842, "LOC": 1_837, "ORG": 1_341, "MISC": 922}),
    "test": (3_453, 46_435, {"PER": 1_617, "LOC": 1_668, "ORG": 1_661, "MISC": 702}),
}
UD_COUNTS = {"train": (12_544, 204_577), "validation": (2_001, 25_147), "test": (2_077, 25_094)}


def _spans(tags, scheme):
    """Entity spans ``(start, end, type)``. In both schemes ``B-X`` starts an entity and ``I-X`` continues
    an ``X`` entity; an ``I-X`` that continues none starts one in IOB1 and is invalid in IOB2."""
    spans, start, entity_type = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_type = tag.partition("-")
        continues = prefix == "I" and tag_type == entity_type
        if start is not None and not continues:
            spans.append((start, i, entity_type))
            start, entity_type = None, None
        if prefix in ("B", "I") and not continues:
            if scheme == "IOB2" and prefix == "I":
                raise AssertionError(f"Invalid IOB2: {tag} at {i} does not continue an entity in {tags}.")
            start, entity_type = i, tag_type
    return spans


def _raw_conll_tags(data_dir, split):
    """The IOB1 NER column of a split's file, per sentence, read independently of the loader."""
    path = os.path.join(data_dir, "conll2003", conll2003.SPLIT_FILES[split] + ".gz")
    sentences, current = [], []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in [*lines, "\n"]:
            columns = line.split()
            if columns and columns[0] != "-DOCSTART-":
                current.append(columns[-1])
            elif current:
                sentences.append(current)
                current = []
    return sentences


@pytest.mark.parametrize("split", list(CONLL_COUNTS))
def test_conll_splits_have_the_verified_counts(data_dir, split):
    sentences, tokens, entities = CONLL_COUNTS[split]
    data = conll2003.load(split)
    assert (len(data), data.num_tokens) == (sentences, tokens)
    assert all(len(words) == len(tags) for words, tags in zip(data.tokens, data.tags))
    assert not any("-DOCSTART-" in words for words in data.tokens)
    found = {label: 0 for label in conll2003.LABELS}
    for tags in data.tags:
        for _, _, entity_type in _spans(tags, "IOB2"):  # also asserts that the tags are valid IOB2
            found[entity_type] += 1
    assert found == entities


@pytest.mark.parametrize("split", list(CONLL_COUNTS))
def test_conversion_keeps_every_entity_span(data_dir, split):
    converted = conll2003.load(split).tags
    raw = _raw_conll_tags(data_dir, split)
    assert len(raw) == len(converted)
    for iob1, iob2 in zip(raw, converted):
        assert _spans(iob1, "IOB1") == _spans(iob2, "IOB2")
        assert all(tag.startswith("B-") for tag, old in zip(iob2, iob1) if old.startswith("B-"))


def test_conll_tag_set_is_the_usual_nine_iob2_tags(data_dir):
    assert conll2003.TAGS[0] == "O" and len(conll2003.TAGS) == 9
    assert {tag for tags in conll2003.load("train").tags for tag in tags} == set(conll2003.TAGS)


def test_stray_b_misc_after_o_starts_an_entity(data_dir):
    """The training file's only two B- tags after O (original annotation) stay entity starts."""
    data = conll2003.load("train")
    stray = [
        (words[i], words[i + 1], converted[i], converted[i + 1])
        for words, raw, converted in zip(data.tokens, _raw_conll_tags(data_dir, "train"), data.tags)
        for i in range(len(raw))
        if raw[i].startswith("B-") and (i == 0 or raw[i - 1] == "O")
    ]
    assert stray == [("Atlanta", "Games", "B-MISC", "I-MISC"), ("Urdu-speaking", "Moslems", "B-MISC", "I-MISC")]


@pytest.mark.parametrize(
    "iob1, iob2",
    [
        ([], []),
        (["O", "O"], ["O", "O"]),
        (["I-PER", "I-PER"], ["B-PER", "I-PER"]),  # I- at sentence start
        (["O", "I-LOC", "I-LOC", "O"], ["O", "B-LOC", "I-LOC", "O"]),  # I- after O
        (["I-ORG", "I-LOC", "I-LOC"], ["B-ORG", "B-LOC", "I-LOC"]),  # I- after another type
        (["I-LOC", "B-LOC", "I-LOC"], ["B-LOC", "B-LOC", "I-LOC"]),  # B- between two same-type entities
        (["I-PER", "B-PER", "B-PER"], ["B-PER", "B-PER", "B-PER"]),  # three one-token entities
        (["O", "B-MISC", "I-MISC"], ["O", "B-MISC", "I-MISC"]),  # stray B- after O
        (["B-MISC"], ["B-MISC"]),
        (["I-MISC", "O", "I-MISC"], ["B-MISC", "O", "B-MISC"]),
    ],
)
def test_iob1_to_iob2(iob1, iob2):
    assert conll2003.iob1_to_iob2(iob1) == iob2
    assert _spans(iob1, "IOB1") == _spans(iob2, "IOB2")


@pytest.mark.parametrize("bad", ["PER", "X-PER", "I-", "B"])
def test_iob1_to_iob2_refuses_tags_that_are_not_iob(bad):
    with pytest.raises(ValueError, match="Not an IOB tag"):
        conll2003.iob1_to_iob2(["O", bad])


def test_conll_plain_files_both_docstart_forms_and_bad_lines(tmp_path, monkeypatch):
    folder = tmp_path / "conll2003"
    folder.mkdir()
    (folder / "eng.testb").write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n"
        "-DOCSTART- -X- O O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n"  # no final blank line
    )
    (folder / "eng.testa").write_text("EU NNP I-ORG\n")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    data = conll2003.load("test")
    assert data.tokens == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert data.tags == [["B-ORG", "O"], ["B-PER", "I-PER"]]
    with pytest.raises(ValueError, match="eng.testa:1: expected 4 columns"):
        conll2003.load("validation")


def test_conll_without_data_says_to_set_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no official download.*ZOO_DATA_DIR.*conll2003/eng.train"):
        conll2003.load("train")
    with pytest.raises(ValueError, match="Unknown CoNLL-2003 split 'dev'"):
        conll2003.load("dev")


@pytest.mark.parametrize("split", list(UD_COUNTS))
def test_ud_splits_have_the_verified_counts_and_all_17_tags(data_dir, split):
    data = ud_ewt.load(split)
    assert (len(data), data.num_tokens) == UD_COUNTS[split]
    assert {tag for tags in data.tags for tag in tags} == set(ud_ewt.UPOS_TAGS)
    assert len(ud_ewt.UPOS_TAGS) == 17


def test_ud_skips_multiword_tokens_and_empty_nodes(data_dir):
    dev = ud_ewt.load("validation")
    # "didn't" is a multiword token (line 29-30) over the words "did" and "n't".
    sentence = next(words for words in dev.tokens if "n't" in words and "did" in words)
    assert "didn't" not in sentence and sentence[sentence.index("did") + 1] == "n't"
    assert not any("didn't" in words or "Don't" in words for words in dev.tokens)
    # An empty node ("8.1 reported", a copy of word 5) is not a word of the sentence.
    train = ud_ewt.load("train")
    words = "Over 300 Iraqis are reported dead and 500 wounded in Fallujah alone .".split()
    assert words in train.tokens
    assert train.tags[train.tokens.index(words)][4] == "VERB"


def test_ud_official_checksums_match_the_staged_files(data_dir):
    for name, sha256 in ud_ewt.OFFICIAL_SHA256.items():
        with gzip.open(os.path.join(data_dir, "ud-english-ewt", name + ".gz"), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha256, name


def test_ud_without_data_offline_says_to_set_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="ZOO_DATA_DIR"):
        ud_ewt.load("test")
    with pytest.raises(ValueError, match="Unknown UD English-EWT split 'dev'"):
        ud_ewt.load("dev")


def test_ud_downloads_the_official_file_when_no_local_copy(data_dir, tmp_path, monkeypatch):
    with gzip.open(os.path.join(data_dir, "ud-english-ewt", "en_ewt-ud-dev.conllu.gz"), "rb") as f:
        payload = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/en_ewt-ud-dev.conllu"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(payload) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(ud_ewt, "OFFICIAL_URL", f"http://127.0.0.1:{server.server_port}/{{name}}")
        monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "empty"))
        monkeypatch.setenv("ZOO_OFFLINE", "0")
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
        for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(var, raising=False)
        dev = ud_ewt.load("validation")
    finally:
        server.shutdown()
    assert (len(dev), dev.num_tokens) == UD_COUNTS["validation"]


# === CoNLL-2000 (Penn POS tags) and the Penn-to-UPOS table ===

CONLL2000_COUNTS = {"train": (8_936, 211_727), "test": (2_012, 47_377)}  # SOURCE.md, equal to the official figures


@pytest.mark.parametrize("split", list(CONLL2000_COUNTS))
def test_conll2000_splits_have_the_verified_counts_and_parallel_columns(data_dir, split):
    pos, chunks = conll2000.load(split), conll2000.load(split, column="chunk")
    assert (len(pos), pos.num_tokens) == CONLL2000_COUNTS[split]
    assert pos.tokens == chunks.tokens
    assert {tag[:2] for tags in chunks.tags for tag in tags} <= {"B-", "I-", "O"}
    assert "NN" in {tag for tags in pos.tags for tag in tags}


def test_conll2000_checksums_match_the_staged_archives(data_dir):
    for name, sha256 in conll2000.OFFICIAL_SHA256.items():
        with open(os.path.join(data_dir, "conll2000", name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha256, name


def test_conll2000_bad_lines_splits_and_columns(tmp_path, monkeypatch):
    folder = tmp_path / "conll2000"
    folder.mkdir()
    (folder / "test.txt").write_text("He PRP B-NP\nreckons VBZ B-VP\n\n\nOK UH B-INTJ\n")  # no final blank line
    (folder / "train.txt").write_text("He PRP\n")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    assert conll2000.load("test").tokens == [["He", "reckons"], ["OK"]]
    assert conll2000.load("test").tags == [["PRP", "VBZ"], ["UH"]]
    assert conll2000.load("test", column="chunk").tags == [["B-NP", "B-VP"], ["B-INTJ"]]
    with pytest.raises(ValueError, match="train.txt:1: expected 3 space-separated columns"):
        conll2000.load("train")
    with pytest.raises(ValueError, match="Unknown CoNLL-2000 split 'validation'"):
        conll2000.load("validation")
    with pytest.raises(ValueError, match="Unknown CoNLL-2000 column 'ner'"):
        conll2000.load("test", column="ner")


def test_ptb_table_is_the_ud_conversion_table():
    table = ptb_upos.PTB_TO_UPOS
    assert len(table) == 48 and set(table.values()) <= set(ud_ewt.UPOS_TAGS)  # en::penn, 48 tags; UD v2 names
    facts = {"MD": "VERB", "PRP$": "DET", "EX": "ADV", "RP": "PART", "TO": "PART", "IN": "ADP", "CC": "CCONJ",
             "LS": "PUNCT", "NNPS": "PROPN", "WP$": "DET", "$": "SYM", "HYPH": "PUNCT", "AFX": "ADJ", "UH": "INTJ"}
    assert {tag: table[tag] for tag in facts} == facts


def test_ptb_to_upos_reads_conll_spellings_and_refuses_other_tags():
    assert ptb_upos.to_upos(["(", ")", '"', "''", "NN|SYM", "NNP"]) == ["PUNCT"] * 4 + ["NOUN", "PROPN"]
    with pytest.raises(ValueError, match="'B-NP' is not a Penn Treebank POS tag"):
        ptb_upos.to_upos(["NN", "B-NP"])
    with pytest.raises(TypeError, match="got int"):
        ptb_upos.to_upos([3])


def test_every_pos_tag_of_the_news_sets_maps_to_upos(data_dir):
    tags = {tag for split in CONLL2000_COUNTS for tags in conll2000.load(split).tags for tag in tags}
    for split in CONLL_COUNTS:
        reuters = conll2000.read_columns(conll2003.file_path(split), column=1, columns=4, skip_first="-DOCSTART-")
        assert reuters.tokens == conll2003.load(split).tokens
        tags |= {tag for tags in reuters.tags for tag in tags}
    assert len(tags) >= 45
    assert set(ptb_upos.to_upos(sorted(tags))) <= set(ud_ewt.UPOS_TAGS)
