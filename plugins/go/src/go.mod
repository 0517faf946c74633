module wasmd.example/goplugin

go 1.24
