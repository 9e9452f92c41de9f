from saleor_support_plugin.cli import main

raise SystemExit(main())
