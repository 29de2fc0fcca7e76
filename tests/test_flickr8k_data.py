"""The Flickr8k loader reads the real archives: official split sizes, 5 captions per image, the images themselves."""

import io

import pytest

from zoo.data import flickr8k


@pytest.fixture(scope="module")
def splits(data_dir):
    return {split: flickr8k.load(split) for split in ("train", "validation", "test")}


def test_official_split_sizes_and_five_captions_each(splits):
    assert {split: len(data) for split, data in splits.items()} == {"train": 6000, "validation": 1000, "test": 1000}
    for data in splits.values():
        assert all(len(refs) == 5 and all(c.strip() for c in refs) for refs in data.captions)
    names = [set(data.images) for data in splits.values()]
    assert not (names[0] & names[1]) and not (names[0] & names[2]) and not (names[1] & names[2])


def test_captions_are_in_file_order_and_the_phantom_key_is_ignored(splits):
    test = splits["test"]
    assert test.images[0] == "3385593926_d3e9c21170.jpg"
    assert test.captions[0][0] == "The dogs are in the snow in front of a fence ."
    everything = set().union(*(data.images for data in splits.values()))
    assert "2258277193_586949ec62.jpg.1" not in everything  # 5 captions in the token file, no image, no split


def test_every_split_image_is_in_the_archive_and_decodes(splits):
    from PIL import Image

    archive = set(flickr8k.image_names())
    assert len(archive) == 8091
    assert all(set(data.images) <= archive for data in splits.values())
    for data in flickr8k.read_images(splits["test"].images[:3] + splits["train"].images[-2:]):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.size == (160, 160) and image.mode == "RGB"


def test_limit_and_the_dev_alias(data_dir):
    assert flickr8k.load("dev", limit=7).images == flickr8k.load("validation").images[:7]
    with pytest.raises(ValueError, match="Unknown Flickr8k split"):
        flickr8k.load("val")
    with pytest.raises(ValueError, match="positive integer"):
        flickr8k.load("test", limit=0)


def test_a_missing_archive_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"Flickr8k_text\.tar\.gz or Flickr8k_text\.zip.*flickr8k"):
        flickr8k.load("test")
    with pytest.raises(FileNotFoundError, match="Flickr8k_Dataset"):
        flickr8k.read_images(["x.jpg"])


def test_an_unknown_image_name_raises(data_dir):
    with pytest.raises(KeyError, match="not in"):
        flickr8k.read_images(["no_such_image.jpg"])


def test_tokenize_and_detokenize():
    assert flickr8k.tokenize("A dog's ball , in 2 cars .") == ["a", "dog", "'s", "ball", "in", "2", "cars"]
    assert flickr8k.tokenize("  ?! ") == []
    assert flickr8k.detokenize(["a", "dog", "'s", "ball"]) == "a dog's ball"


def test_limit_on_train_is_a_fixed_sample_and_evaluation_splits_keep_their_order(data_dir):
    train = flickr8k.load("train")
    sample = flickr8k.load("train", limit=40)
    assert sample.images == flickr8k.load("train", limit=40).images and sample.images != train.images[:40]
    assert set(sample.images) <= set(train.images)
    assert [train.captions[train.images.index(image)] for image in sample.images[:3]] == sample.captions[:3]
    assert flickr8k.load("test", limit=9).images == flickr8k.load("test").images[:9]
