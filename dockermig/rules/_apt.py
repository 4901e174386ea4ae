"""The apt front ends the apt rules (DM540-DM543) look at. hadolint looks at apt-get
only (and, for DL3009, apt and aptitude); ``apt install`` prompts and keeps lists the
same way, so dockermig reads all three."""

APT = ("apt-get", "apt", "aptitude")
