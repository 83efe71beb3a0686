# HDS pack fixtures (AWS): expected verdicts per policy in ../expected.yaml.
provider "aws" {
  region = "eu-west-3"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_kms_key" "hds" {
  description         = "health data"
  enable_key_rotation = true
}

resource "aws_ebs_volume" "pass_enc_key" {
  availability_zone = "eu-west-3a"
  size              = 10
  encrypted         = true
  kms_key_id        = aws_kms_key.hds.arn
}

resource "aws_ebs_volume" "fail_enc" {
  availability_zone = "eu-west-3a"
  size              = 10
  encrypted         = false
}

resource "aws_ebs_volume" "fail_key" {
  availability_zone = "eu-west-3a"
  size              = 10
  encrypted         = true
  kms_key_id        = "alias/aws/ebs"
}

# No key named: EC2 uses the account's default EBS key, which these files do not set.
resource "aws_ebs_volume" "unknown_default_key" {
  availability_zone = "eu-west-3a"
  size              = 10
  encrypted         = true
}

resource "aws_db_instance" "pass_enc_key_rds" {
  instance_class    = "db.t3.micro"
  engine            = "postgres"
  storage_encrypted = true
  kms_key_id        = aws_kms_key.hds.arn
}

resource "aws_db_instance" "fail_enc_rds" {
  instance_class    = "db.t3.micro"
  engine            = "postgres"
  storage_encrypted = false
}

# Residency from the provider block the resource uses: the aliased one is in us-east-1.
resource "aws_ebs_volume" "fail_res" {
  provider          = aws.us
  availability_zone = "us-east-1a"
  size              = 10
  encrypted         = true
  kms_key_id        = aws_kms_key.hds.arn
}

resource "aws_efs_file_system" "fail_res_efs" {
  provider   = aws.us
  encrypted  = true
  kms_key_id = aws_kms_key.hds.arn
}

resource "aws_dynamodb_table" "pass_rep" {
  name     = "records"
  hash_key = "id"
  replica {
    region_name = "eu-central-1"
  }
}

resource "aws_dynamodb_table" "fail_rep" {
  name     = "records-us"
  hash_key = "id"
  replica {
    region_name = "us-east-1"
  }
}
