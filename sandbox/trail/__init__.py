"""A CloudTrail-style trail of every call the sandbox serves: `records`
(CloudTrail's record format, `userIdentity`, secrets hidden) and `store`
(recent records in memory, every record in day files under the data directory)."""
