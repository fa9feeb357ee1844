library(testthat)
library(rzmq)

test_check("rzmq")
