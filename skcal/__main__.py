import sys

from skcal.cli import main

sys.exit(main())
