/**
 * Fixed SSH keys for unit tests that run an in-process ssh2 server: made once with ssh-keygen
 * (`ssh-keygen -t ed25519 -N ''`), so no test generates keys while the machine is loaded and
 * every run uses the same bytes. Test material only: never trusted anywhere.
 */
export const FIXTURE_HOST_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBQzmjX9dTOTI/0ysfJhWwuUmp7LIQq+lYipY4bQ5+OegAAAJBxUBrccVAa
3AAAAAtzc2gtZWQyNTUxOQAAACBQzmjX9dTOTI/0ysfJhWwuUmp7LIQq+lYipY4bQ5+Oeg
AAAEArGP08MhD28yIG16wIE1BJdkTKkuGuBaETS3pljNMsmVDOaNf11M5Mj/TKx8mFbC5S
ansshCr6ViKljhtDn456AAAADGZpeHR1cmUtaG9zdAE=
-----END OPENSSH PRIVATE KEY-----
`;

export const FIXTURE_CLIENT_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCmHy+/lxtNvIO9sg1nOlrHEqox1afjHhrYSLxWzYnxHwAAAJhhpCGoYaQh
qAAAAAtzc2gtZWQyNTUxOQAAACCmHy+/lxtNvIO9sg1nOlrHEqox1afjHhrYSLxWzYnxHw
AAAEA4j0Jhs4Xt7JNPgxysEVEJp4AteL5zQn5Gh2Mzh4g3sqYfL7+XG028g72yDWc6WscS
qjHVp+MeGthIvFbNifEfAAAADmZpeHR1cmUtY2xpZW50AQIDBAUGBw==
-----END OPENSSH PRIVATE KEY-----
`;
