"""``python -m lava_fptt.cli`` (what ``torchrun -m lava_fptt.cli train --ddp ...`` runs)."""
import sys

from . import main

sys.exit(main())
