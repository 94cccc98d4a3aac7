"""Where trained models live: one file per (data + config) hash, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from nlu.errors import NluDataError
from nlu.features import FeatureConfig
from nlu.model import MODEL_FORMAT, IntentModel

_PREFIX = "intent-model-"


def data_files(data_dir: Path) -> list[Path]:
    return sorted([*data_dir.glob("*.yml"), *data_dir.glob("*.yaml")])


def model_key(data_dir: Path, config: FeatureConfig) -> str:
    """A hash of every training file (name and bytes), the feature config and model format.

    Editing any data file, or upgrading Kefu to a different featuriser, gives a new key, so a
    stale model is never used.
    """
    files = data_files(data_dir)
    if not files:
        raise NluDataError(data_dir, None, "holds no .yml training data (is nlu.data_dir right?)")
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": MODEL_FORMAT, **config.to_dict()},
                             sort_keys=True).encode())
    for path in files:
        content = path.read_bytes()
        digest.update(f"\0{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


class ModelStore:
    """A directory of model files named by key; saving is atomic and training is serialised.

    Two processes that start at once both see no model; the second waits on the lock while
    the first trains, then loads what the first wrote instead of training again.
    """

    __slots__ = ("directory",)

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, key: str) -> Path:
        return self.directory / f"{_PREFIX}{key[:20]}.npz"

    def load(self, key: str) -> IntentModel | None:
        path = self.path_for(key)
        return IntentModel.load(path) if path.is_file() else None

    def save(self, model: IntentModel, key: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(key)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=self.directory)
        os.close(handle)
        temp_path = Path(temporary)
        try:
            model.save(temp_path)
            temp_path.chmod(0o644)  # mkstemp makes it private; the model is not secret
            with temp_path.open("rb") as stream:
                os.fsync(stream.fileno())
            os.replace(temp_path, target)  # atomic: readers see the old file or the new one
        finally:
            temp_path.unlink(missing_ok=True)
        self._prune(keep=target)
        return target

    def _prune(self, keep: Path) -> None:
        for old in self.directory.glob(f"{_PREFIX}*.npz"):
            if old != keep:
                old.unlink(missing_ok=True)

    @contextlib.contextmanager
    def training_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".train.lock").open("a+b") as lock_file:
            try:
                import fcntl
            except ImportError:  # Windows: no cross-process lock, the atomic rename still holds
                yield
                return
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
