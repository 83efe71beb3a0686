resource "aws_ebs_volume" "half" {
  size = 
