"""Face detection, choice and verdicts on the committed fixtures (tests/fixtures/faces/README.md)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.adapters.faces import FaceDetector, choose, crop_face, judge

FACES = Path(__file__).resolve().parents[2] / "fixtures" / "faces"


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def load(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None
    return img


def test_a_face_box_without_eyes_is_refused(detector: FaceDetector) -> None:
    # the face cascade alone also fires on clothing now and then; the eye check is what refuses those
    face = load("face.jpg")
    (box,) = detector.detect(face)
    x, y, w, h = box
    blurred = face.copy()
    blurred[y : y + h // 2, x : x + w] = cv2.GaussianBlur(face[y : y + h // 2, x : x + w], (0, 0), 6)
    assert FaceDetector(verify_eyes=False).detect(blurred) and not detector.detect(blurred)  # found, then refused
    assert not detector._has_eye(cv2.cvtColor(blurred, cv2.COLOR_BGR2GRAY), box)
    assert detector._has_eye(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), box)


@pytest.mark.parametrize(("name", "count"), [("face.jpg", 1), ("no_face.jpg", 0), ("two_faces.jpg", 2)])
def test_the_cascade_finds_the_faces_in_the_fixtures(detector: FaceDetector, name: str, count: int) -> None:
    assert len(detector.detect(load(name))) == count
    assert all((FACES / n).stat().st_size <= 100_000 for n in ("face.jpg", "no_face.jpg", "two_faces.jpg"))


def test_choice_among_two_faces(detector: FaceDetector) -> None:
    img = load("two_faces.jpg")
    boxes = detector.detect(img)
    h, w = img.shape[:2]
    largest = choose(boxes, (w, h), "largest")
    assert largest is not None and largest[2] == max(b[2] for b in boxes)
    assert choose(boxes, (w, h), "closest") == largest
    assert choose(boxes, (w, h), "center") == largest  # the near face is also a little nearer the middle
    # move the frame's middle towards the far face: "center" now picks it, "largest" does not change
    assert choose(boxes, (w + 200, h), "center") != largest
    assert choose(boxes, (w + 200, h), "largest") == largest
    # the sitter being followed stays chosen while a larger face is in view; a box far from it does not count
    small = next(b for b in boxes if b != largest)
    assert choose(boxes, (w, h), "largest", prefer=(small[0] + 3, small[1] - 2, small[2], small[3])) == small
    assert choose(boxes, (w, h), "largest", prefer=(0, 200, 30, 30)) == largest
    v = judge(detector, img, 0.0, "largest", 0.12, 60.0)
    assert v.observation.usable and v.observation.faces == 2 and v.box == largest


def test_verdicts_for_no_face_too_small_and_too_dark(detector: FaceDetector) -> None:
    assert judge(detector, load("no_face.jpg"), 0.0, "largest", 0.12, 60.0).observation.problem == "no_face"
    face = load("face.jpg")
    assert judge(detector, face, 0.0, "largest", 0.12, 60.0).observation.usable
    assert judge(detector, face, 0.0, "largest", 0.5, 60.0).observation.problem == "too_small"
    dim = (face.astype(np.float32) * 0.3).astype(np.uint8)  # a dim room: the face is still found
    v = judge(detector, dim, 0.0, "largest", 0.12, 60.0)
    assert v.observation.problem == "too_dark"
    black = np.zeros_like(face)
    assert judge(detector, black, 0.0, "largest", 0.12, 60.0).observation.problem == "too_dark"


def test_crop_is_square_and_centred_on_the_face(detector: FaceDetector) -> None:
    img = load("face.jpg")
    (box,) = detector.detect(img)
    crop = crop_face(img, box, 256)
    assert crop.shape == (256, 256) and crop.dtype == np.uint8
    # the face (skin, light) fills the middle; the crop is not a flat fill of repeated edges
    assert crop[96:160, 96:160].mean() > 100 and crop.std() > 20
    edge = crop_face(img, (0, 0, box[2], box[3]), 64)  # a face at the frame's corner: padded, not an error
    assert edge.shape == (64, 64)
