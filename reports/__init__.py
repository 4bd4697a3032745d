"""Reports and views over an archive package: conversion report, query, patient journal."""

from __future__ import annotations
