# Minimal configuration whose state lives in a local backend file next to it.
# It uses only the built-in provider (terraform.io/builtin/terraform): `terraform init`
# needs no registry and no network. See ../README.md for the exact commands.
terraform {
  required_version = ">= 1.4.0"

  backend "local" {
    path = "state/terraform.tfstate"
  }
}

variable "region" {
  type    = string
  default = "eu-west-3"
}

resource "terraform_data" "patient_archive" {
  input = {
    kind      = "object_storage"
    region    = var.region
    encrypted = true
  }
}

resource "terraform_data" "archive_copy" {
  for_each = {
    frankfurt = "eu-central-1"
  }

  input = {
    source = terraform_data.patient_archive.id
    region = each.value
  }
}

output "archive_id" {
  value = terraform_data.patient_archive.id
}
