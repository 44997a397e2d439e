import tempfile
import unittest
from pathlib import Path

from src.versions import read_pins


class ReadPinsTest(unittest.TestCase):
    def test_pins_are_read_and_comments_ignored(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "requirements.txt"
            path.write_text("Requests==2.31.0  # http\n\n# tools\nurllib3 == 2.0.7\nflask\n")
            self.assertEqual(read_pins(path), {"requests": "2.31.0", "urllib3": "2.0.7"})

    def test_the_repository_pins_every_requirement(self) -> None:
        root = Path(__file__).resolve().parent.parent
        pins = read_pins(root / "requirements.txt")
        self.assertTrue(pins)
        self.assertTrue(all(pins.values()))


if __name__ == "__main__":
    unittest.main()
