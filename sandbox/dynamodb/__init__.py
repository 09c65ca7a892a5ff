"""DynamoDB behind the gateway: `actions` (each operation's IAM action,
resource and condition keys, `dynamodb:LeadingKeys` included) and
`expressions` (the attribute names and key condition IAM needs from
DynamoDB's expressions). moto stores the tables and items."""
