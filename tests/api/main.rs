mod plugin_host;
