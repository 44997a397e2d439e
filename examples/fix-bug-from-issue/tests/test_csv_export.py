import unittest

from src.csv_export import export_rows


class ExportRowsTest(unittest.TestCase):
    def test_rows_ending_in_a_newline(self):
        self.assertEqual(export_rows("a,b\n1,2\n"), [["a", "b"], ["1", "2"]])

    def test_empty_text_has_no_rows(self):
        self.assertEqual(export_rows(""), [])


if __name__ == "__main__":
    unittest.main()
